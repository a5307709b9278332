#include "JobTemplates.h"

namespace magpie::ui {

QList<JobTemplate> JobTemplate::all()
{
    QList<JobTemplate> t;
    t.append({QStringLiteral("Workspace"), QStringLiteral("Initialize a workspace"), QStringLiteral("Initialize Workspace"),
              QStringLiteral("# Files written under /workspace persist after the job ends.\n"
                             "echo 'data' > /workspace/file.txt\n"
                             "ls -l /workspace\n"),
              true, QString(), 5});
    t.append({QStringLiteral("Workspace"), QStringLiteral("Read the workspace"), QStringLiteral("Read Workspace"),
              QStringLiteral("# Pick the workspace the first job created; this prints 'data'.\n"
                             "cat /workspace/file.txt\n"),
              true, QString(), std::nullopt});
    t.append({QStringLiteral("Data pipeline"), QStringLiteral("1. Download data"), QStringLiteral("Download"),
              QStringLiteral("curl -fsSL https://example.com/data.csv > /workspace/data.csv\n"
                             "wc -c /workspace/data.csv\n"),
              true, QStringLiteral("data-pipeline"), std::nullopt});
    t.append({QStringLiteral("Data pipeline"), QStringLiteral("2. Process data"), QStringLiteral("Process"),
              QStringLiteral("# Replace this with your own processing (e.g. python3 process.py).\n"
                             "python3 - /workspace/data.csv > /workspace/results.csv <<'EOF'\n"
                             "import sys\n"
                             "lines = open(sys.argv[1], errors='replace').read().splitlines()\n"
                             "print('lines,characters')\n"
                             "print(f'{len(lines)},{sum(len(l) for l in lines)}')\n"
                             "EOF\n"
                             "cat /workspace/results.csv\n"),
              true, QStringLiteral("data-pipeline"), std::nullopt});
    t.append({QStringLiteral("Data pipeline"), QStringLiteral("3. Upload results"), QStringLiteral("Upload"),
              QStringLiteral("curl -fsS -X POST -F file=@/workspace/results.csv https://api.example.com/upload\n"),
              true, QStringLiteral("data-pipeline"), std::nullopt});
    t.append({QStringLiteral("State"), QStringLiteral("Counter"), QStringLiteral("Increment"),
              QStringLiteral("# Read current counter\n"
                             "if [ -f /workspace/counter ]; then\n"
                             "    COUNT=$(cat /workspace/counter)\n"
                             "else\n"
                             "    COUNT=0\n"
                             "fi\n"
                             "\n"
                             "# Increment\n"
                             "COUNT=$((COUNT + 1))\n"
                             "echo $COUNT > /workspace/counter\n"
                             "echo \"Counter is now: $COUNT\"\n"),
              true, QStringLiteral("counter-demo"), std::nullopt});
    t.append({QStringLiteral("Build cache"), QStringLiteral("Initial build"), QStringLiteral("Initial Build"),
              QStringLiteral("# First build - slow. Replace the repository with yours.\n"
                             "set -e\n"
                             "cd /workspace\n"
                             "git clone https://github.com/user/repo.git\n"
                             "cd repo\n"
                             "npm install\n"
                             "npm run build\n"),
              true, QStringLiteral("build-cache"), 20});
    t.append({QStringLiteral("Build cache"), QStringLiteral("Rebuild"), QStringLiteral("Rebuild"),
              QStringLiteral("# Subsequent builds - fast (node_modules is cached in the workspace).\n"
                             "set -e\n"
                             "cd /workspace/repo\n"
                             "git pull\n"
                             "npm run build\n"),
              true, QStringLiteral("build-cache"), std::nullopt});
    t.append({QStringLiteral("Other"), QStringLiteral("Stateless job"), QStringLiteral("Hello"),
              QStringLiteral("# Without a workspace everything is thrown away when the VM stops.\n"
                             "echo \"Hello from $(uname -sr)\"\n"
                             "nproc; free -m\n"),
              false, QString(), std::nullopt});
    return t;
}

} // namespace magpie::ui
