// Headless.h — `magpie-desktop --headless`: the executor and the HTTP API without a window.
//
// Start-up: lock the data folder (a second process on the same folder exits at once with a
// message), load or create the API key, open the executor (which recovers from a crash), listen
// on a loopback address, write endpoint.json, then print exactly one line on stdout:
//   listening on http://127.0.0.1:PORT
// SIGTERM, SIGINT and SIGHUP stop it cleanly: held requests are answered, running jobs are
// stopped and recorded as interrupted (Executor::shutdown), endpoint.json is removed, exit 0.
#pragma once

#include "Accelerator.h"
#include "slurm/SlurmCommands.h"

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <memory>
#include <optional>

class QSocketNotifier;

namespace magpie {

class DataDir;
class Executor;
class HttpApi;

struct HeadlessOptions {
    QString dataDir;                       // empty: DataDir::defaultPath()
    QString listen = QStringLiteral("127.0.0.1:0");
    int maxParallel = 0;                   // 0: the number of cores
    std::optional<AccelMode> accel;        // unset: MAGPIE_ACCEL, else auto
    int keepJobs = 0;                      // history retention (0: no limit)
    int keepDays = 0;
    bool checkpoints = true;               // a snapshot before every stateful job (issue 11)
    int keepCheckpoints = 10;              // per workspace
    QString backend = QStringLiteral("local"); // "local" or "slurm"
    SlurmConfig slurm;                     // --slurm-partition, --slurm-account, --slurm-shared, --slurm-extra
};

class Headless : public QObject
{
    Q_OBJECT
public:
    enum ExitCode { Ok = 0, Failed = 1, Usage = 2 };

    explicit Headless(HeadlessOptions options, QObject *parent = nullptr);
    ~Headless() override;

    // Sets everything up and prints the "listening on" line. Returns Ok when serving; otherwise
    // it has printed why on stderr and returns the exit code to use.
    int start();
    // start(), then the event loop until a stop signal. The process's exit code.
    int exec();
    // Stops cleanly and makes the event loop return 0.
    void stop();

    // Parses --listen: "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (HOST defaults to
    // 127.0.0.1, "localhost" is 127.0.0.1). Non-loopback addresses are refused.
    static bool parseListen(const QString &text, QHostAddress *address, quint16 *port, QString *error);

private:
    bool installSignalHandlers(QString *error);
    void onSignal();

    HeadlessOptions m_opt;
    std::unique_ptr<DataDir> m_dir;
    std::unique_ptr<Executor> m_exec;
    std::unique_ptr<HttpApi> m_api;
    QSocketNotifier *m_signalNotifier = nullptr;
    bool m_stopping = false;
};

} // namespace magpie
