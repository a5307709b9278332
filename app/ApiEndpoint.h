// ApiEndpoint.h — the window's local HTTP endpoint: the API key (ApiKey), the HttpApi server
// on a loopback address, and endpoint.json in the data folder (DataDir) so SDK scripts find
// it. It can be switched off and on, moved to another port and given a new key at run time.
// It is the window's ui::EndpointControl; no widgets here.
#pragma once

#include "ApiKey.h"
#include "EndpointControl.h"

#include <QHostAddress>
#include <memory>
#include <optional>

namespace magpie {

class DataDir;
class Executor;
class HttpApi;

class ApiEndpoint : public ui::EndpointControl
{
    Q_OBJECT
public:
    // `dir` may be null (then no endpoint.json is written, e.g. in tests).
    ApiEndpoint(Executor &executor, DataDir *dir, QObject *parent = nullptr);
    ~ApiEndpoint() override;

    // Loads or creates the key (MAGPIE_API_KEY or <data-dir>/api-key).
    bool loadKey(QString *error);
    bool start(const QHostAddress &address, quint16 port, QString *error) override;
    void stop() override;

    bool isListening() const override;
    quint16 port() const override;
    QString url() const override;
    QHostAddress address() const override { return m_address; }
    QString lastError() const override { return m_error; }

    QByteArray key() const override { return m_key ? m_key->key() : QByteArray(); }
    bool keyFromEnvironment() const override { return m_key && m_key->fromEnvironment(); }
    QString keyFile() const override { return m_key ? m_key->file() : QString(); }
    // Makes a new key and restarts the server with it on the same port.
    bool regenerateKey(QString *error) override;

    HttpApi *api() const { return m_api.get(); }

private:
    Executor &m_ex;
    DataDir *m_dir;
    std::optional<ApiKey> m_key;
    std::unique_ptr<HttpApi> m_api;
    QHostAddress m_address = QHostAddress(QHostAddress::LocalHost);
    QString m_error;
};

} // namespace magpie
