// ApiEndpoint.h — the window's local HTTP endpoint: the API key (ApiKey), the HttpApi server
// on a loopback address, and endpoint.json in the data folder (DataDir) so SDK scripts find
// it. It can be switched off and on, moved to another port and given a new key at run time.
// No widgets here.
#pragma once

#include "ApiKey.h"

#include <QHostAddress>
#include <QObject>
#include <memory>
#include <optional>

namespace magpie {
class DataDir;
class Executor;
class HttpApi;
}

namespace magpie::ui {

class ApiEndpoint : public QObject
{
    Q_OBJECT
public:
    // `dir` may be null (then no endpoint.json is written, e.g. in tests).
    ApiEndpoint(Executor &executor, DataDir *dir, QObject *parent = nullptr);
    ~ApiEndpoint() override;

    // Loads or creates the key (MAGPIE_API_KEY or <data-dir>/api-key).
    bool loadKey(QString *error);
    // Listens (again) on a loopback address; port 0 picks a free one.
    bool start(const QHostAddress &address, quint16 port, QString *error);
    void stop();

    bool isListening() const;
    quint16 port() const;
    QString url() const;             // "" while not listening
    QHostAddress address() const { return m_address; }
    QString lastError() const { return m_error; } // why the last start failed ("" when fine)

    QByteArray key() const { return m_key ? m_key->key() : QByteArray(); }
    bool keyFromEnvironment() const { return m_key && m_key->fromEnvironment(); }
    QString keyFile() const { return m_key ? m_key->file() : QString(); }
    // Makes a new key (the old one stops working at once) and restarts the server with it on
    // the same port. Refused when the key comes from MAGPIE_API_KEY.
    bool regenerateKey(QString *error);

    HttpApi *api() const { return m_api.get(); }

signals:
    void changed();

private:
    Executor &m_ex;
    DataDir *m_dir;
    std::optional<ApiKey> m_key;
    std::unique_ptr<HttpApi> m_api;
    QHostAddress m_address = QHostAddress(QHostAddress::LocalHost);
    QString m_error;
};

} // namespace magpie::ui
