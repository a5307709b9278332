#include "ApiEndpoint.h"

#include "DataDir.h"
#include "Executor.h"
#include "HttpApi.h"

#include <QDir>
#include <QFile>

namespace magpie {

ApiEndpoint::ApiEndpoint(Executor &executor, DataDir *dir, QObject *parent)
    : ui::EndpointControl(parent), m_ex(executor), m_dir(dir)
{
}

ApiEndpoint::~ApiEndpoint()
{
    stop();
}

bool ApiEndpoint::loadKey(QString *error)
{
    QString err;
    auto k = ApiKey::load(m_ex.dataDir(), &err);
    if (!k) {
        if (error)
            *error = err;
        return false;
    }
    m_key = *k;
    emit changed();
    return true;
}

bool ApiEndpoint::isListening() const
{
    return m_api && m_api->isListening();
}

quint16 ApiEndpoint::port() const
{
    return isListening() ? m_api->port() : 0;
}

QString ApiEndpoint::url() const
{
    return isListening() ? m_api->url() : QString();
}

bool ApiEndpoint::start(const QHostAddress &address, quint16 port, QString *error)
{
    stop();
    m_address = address;
    m_error.clear();
    if (!m_key && !loadKey(&m_error)) {
        if (error)
            *error = m_error;
        emit changed();
        return false;
    }
    auto api = std::make_unique<HttpApi>(m_ex, m_key->key());
    QString err;
    if (!api->listen(address, port, &err)) {
        m_error = err.isEmpty() ? tr("cannot listen on %1:%2").arg(address.toString()).arg(port) : err;
        if (error)
            *error = m_error;
        emit changed();
        return false;
    }
    m_api = std::move(api);
    if (m_dir && !m_dir->writeEndpoint(m_api->url(), m_key->file(), &err)) {
        m_error = tr("listening, but endpoint.json could not be written: %1").arg(err);
        if (error)
            *error = m_error;
    }
    emit changed();
    return true;
}

void ApiEndpoint::stop()
{
    if (!m_api)
        return;
    m_api->close();
    m_api.reset();
    if (m_dir)
        m_dir->removeEndpoint();
    emit changed();
}

bool ApiEndpoint::regenerateKey(QString *error)
{
    if (keyFromEnvironment()) {
        if (error)
            *error = tr("the key comes from the MAGPIE_API_KEY environment variable; change it there");
        return false;
    }
    const QString file = m_key ? m_key->file() : QDir(m_ex.dataDir()).filePath(QLatin1String(ApiKey::kFileName));
    if (QFile::exists(file) && !QFile::remove(file)) {
        if (error)
            *error = tr("cannot replace the key file %1").arg(file);
        return false;
    }
    m_key.reset();
    QString err;
    if (!loadKey(&err)) {
        if (error)
            *error = err;
        return false;
    }
    if (m_api) {
        const quint16 p = m_api->port();
        if (!start(m_address, p, &err)) {
            if (error)
                *error = tr("a new key was made, but the server could not restart: %1").arg(err);
            return false;
        }
    }
    emit changed();
    return true;
}

} // namespace magpie
