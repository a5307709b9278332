#include "CodeSnippets.h"

#include "UiFormat.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace magpie::ui {

QString SnippetContext::baseUrl() const
{
    return url.isEmpty() ? QStringLiteral("http://127.0.0.1:PORT") : url;
}

QString SnippetContext::pythonKey() const
{
    if (keyFile.isEmpty())
        return QStringLiteral("os.environ[\"MAGPIE_API_KEY\"]");
    return QStringLiteral("open(%1).read().strip()").arg(CodeSnippets::pythonString(keyFile));
}

QString SnippetContext::shellKey() const
{
    return keyFile.isEmpty() ? QStringLiteral("$MAGPIE_API_KEY") : QStringLiteral("$(cat %1)").arg(shellQuote(keyFile));
}

QString CodeSnippets::pythonString(const QString &s)
{
    // A raw triple-quoted string keeps a script readable; JSON escapes are valid in Python too.
    if (s.contains(QLatin1Char('\n')) && !s.contains(QLatin1String("\"\"\"")) && !s.endsWith(QLatin1Char('"'))
        && !s.endsWith(QLatin1Char('\\')) && !s.contains(QLatin1Char('\r')))
        return QStringLiteral("r\"\"\"") + s + QStringLiteral("\"\"\"");
    const QByteArray j = QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(j.mid(1, j.size() - 2));
}

namespace {
QJsonObject body(const JobRecord &j, bool withSize)
{
    QJsonObject o{{QStringLiteral("name"), j.name}, {QStringLiteral("script"), j.script}};
    if (j.stateful) {
        o.insert(QStringLiteral("stateful"), true);
        o.insert(QStringLiteral("workspace_id"), j.workspaceId);
        if (withSize && j.workspaceSizeGb > 0)
            o.insert(QStringLiteral("workspace_size_gb"), j.workspaceSizeGb);
    }
    if (!j.env.isEmpty()) {
        QJsonObject env;
        for (const auto &kv : j.env)
            env.insert(kv.first, kv.second);
        o.insert(QStringLiteral("env"), env);
    }
    o.insert(QStringLiteral("vcpus"), j.vcpus);
    o.insert(QStringLiteral("memory_mb"), j.memoryMb);
    if (j.timeoutSec > 0)
        o.insert(QStringLiteral("timeout"), j.timeoutSec);
    if (!j.network)
        o.insert(QStringLiteral("network"), false);
    return o;
}
} // namespace

QString CodeSnippets::python(const JobRecord &j, const SnippetContext &c, bool withSize)
{
    QStringList args;
    args << QStringLiteral("name=%1").arg(pythonString(j.name));
    args << QStringLiteral("script=%1").arg(pythonString(j.script));
    if (j.stateful) {
        args << QStringLiteral("stateful=True");
        args << QStringLiteral("workspace_id=%1").arg(pythonString(j.workspaceId));
        if (withSize && j.workspaceSizeGb > 0)
            args << QStringLiteral("workspace_size_gb=%1").arg(j.workspaceSizeGb);
    }
    if (!j.env.isEmpty()) {
        QStringList kv;
        for (const auto &p : j.env)
            kv << QStringLiteral("%1: %2").arg(pythonString(p.first), pythonString(p.second));
        args << QStringLiteral("env={%1}").arg(kv.join(QStringLiteral(", ")));
    }
    args << QStringLiteral("vcpus=%1").arg(j.vcpus) << QStringLiteral("memory_mb=%1").arg(j.memoryMb);
    if (j.timeoutSec > 0)
        args << QStringLiteral("timeout=%1").arg(j.timeoutSec);
    if (!j.network)
        args << QStringLiteral("network=False");
    QString out;
    if (c.keyFile.isEmpty())
        out += QStringLiteral("import os\n");
    out += QStringLiteral("from magpie import Magpie  # pip install sdk/python (Magpie Desktop's SDK)\n\n");
    out += QStringLiteral("client = Magpie(api_key=%1, base_url=%2)\n").arg(c.pythonKey(), pythonString(c.baseUrl()));
    out += QStringLiteral("result = client.jobs.run_and_wait(\n    %1,\n)\n").arg(args.join(QStringLiteral(",\n    ")));
    out += QStringLiteral("print(result.status, result.exit_code)\nprint(result.stdout)\n");
    return out;
}

QString CodeSnippets::curl(const JobRecord &j, const SnippetContext &c, bool withSize)
{
    const QString json = QString::fromUtf8(QJsonDocument(body(j, withSize)).toJson(QJsonDocument::Compact));
    return QStringLiteral("curl -sS -X POST %1/api/v1/jobs \\\n"
                          "  -H \"Authorization: Bearer %2\" \\\n"
                          "  -H 'Content-Type: application/json' \\\n"
                          "  -d %3\n")
        .arg(c.baseUrl(), c.shellKey(), shellQuote(json));
}

QString CodeSnippets::ourSdk(const SnippetContext &c)
{
    QString out = QStringLiteral("# Magpie Desktop's SDK (pip install sdk/python): finds this app by itself\n"
                                 "# through %1/endpoint.json and its key.\n"
                                 "from magpie import Magpie\n\n"
                                 "client = Magpie()\n"
                                 "# or explicitly:\n")
                      .arg(c.dataDir.isEmpty() ? QStringLiteral("the data folder") : c.dataDir);
    if (c.keyFile.isEmpty())
        out.prepend(QStringLiteral("import os\n"));
    out += QStringLiteral("client = Magpie(api_key=%1, base_url=%2)\n\n").arg(c.pythonKey(), pythonString(c.baseUrl()));
    out += QStringLiteral("result = client.jobs.run_and_wait(name=\"hello\", script=\"echo hello from $(uname -n)\")\n"
                          "print(result.stdout)\n");
    return out;
}

QString CodeSnippets::cloudSdk(const SnippetContext &c)
{
    QString out;
    if (c.keyFile.isEmpty())
        out += QStringLiteral("import os\n");
    out += QStringLiteral("# The official Magpie Cloud SDK, pointed at this app instead of the cloud.\n"
                          "from magpie import Magpie\n\n"
                          "client = Magpie(api_key=%1)\n"
                          "client.base_url = %2\n\n"
                          "result = client.jobs.run_and_wait(name=\"hello\", script=\"echo hello\")\n"
                          "print(result.stdout)\n")
               .arg(c.pythonKey(), pythonString(c.baseUrl()));
    return out;
}

} // namespace magpie::ui
