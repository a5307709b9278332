// CodeSnippets.h — code that does from a script what the window does: the Python SDK call
// (client.jobs.run_and_wait(...), sdk/python) and the curl request that reproduce a job, and
// how to connect our SDK and the official Magpie Cloud SDK to this app (base URL, where the
// key is). Pure text; the window copies it to the clipboard or shows it in Settings.
#pragma once

#include "JobRecord.h"

#include <QString>

namespace magpie::ui {

struct SnippetContext {
    QString url;            // "http://127.0.0.1:PORT" ("" when the API is off: a placeholder)
    QString keyFile;        // where the key is ("" when it comes from MAGPIE_API_KEY)
    QString dataDir;        // the app's data folder (endpoint.json)

    QString baseUrl() const;
    // A Python expression that reads the key, and the same for a shell.
    QString pythonKey() const;
    QString shellKey() const;
};

struct CodeSnippets {
    // `withSize`: pass workspace_size_gb (the workspace does not exist any more).
    static QString python(const JobRecord &job, const SnippetContext &c, bool withSize = false);
    static QString curl(const JobRecord &job, const SnippetContext &c, bool withSize = false);
    // Connecting our SDK (sdk/python): it finds the app by itself; the explicit form too.
    static QString ourSdk(const SnippetContext &c);
    // The official Magpie Cloud SDK, pointed at this app.
    static QString cloudSdk(const SnippetContext &c);
    // A string literal Python reads back as exactly `s`.
    static QString pythonString(const QString &s);
};

} // namespace magpie::ui
