// EndpointControl.h — the local HTTP endpoint as the window sees it: where it listens, its key
// and where that key comes from, switching it off and on and making a new key. The app
// implements it (app/ApiEndpoint); the window shows it in the status bar, Settings and the
// code snippets, and never includes the HTTP server.
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>

namespace magpie::ui {

class EndpointControl : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    virtual bool isListening() const = 0;
    virtual quint16 port() const = 0;
    virtual QString url() const = 0;                // "" while not listening
    virtual QHostAddress address() const = 0;
    virtual QString lastError() const = 0;          // why the last start failed ("" when fine)
    virtual QByteArray key() const = 0;
    virtual bool keyFromEnvironment() const = 0;    // MAGPIE_API_KEY
    virtual QString keyFile() const = 0;            // "" when the key comes from the environment

    // Listens (again) on a loopback address; port 0 picks a free one.
    virtual bool start(const QHostAddress &address, quint16 port, QString *error) = 0;
    virtual void stop() = 0;
    // A new key; the old one stops working at once. Refused for a key from the environment.
    virtual bool regenerateKey(QString *error) = 0;

signals:
    void changed();
};

} // namespace magpie::ui
