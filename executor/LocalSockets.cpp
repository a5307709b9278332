#include "LocalSockets.h"

#include <QLocalServer>
#include <QLocalSocket>

namespace magpie {

QLocalSocket *takeFirstConnection(QLocalServer *server, QLocalSocket *current)
{
    QLocalSocket *taken = nullptr;
    while (QLocalSocket *s = server->nextPendingConnection()) {
        if (current || taken) { // only qemu connects, and only once
            s->abort();
            s->deleteLater();
            continue;
        }
        taken = s;
    }
    return taken;
}

} // namespace magpie
