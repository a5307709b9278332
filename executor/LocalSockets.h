// LocalSockets.h — the one connection a VM's unix sockets take: QEMU connects to each host
// socket (control port, monitor) once; anyone else is turned away.
#pragma once

class QLocalServer;
class QLocalSocket;

namespace magpie {

// Takes the server's pending connections: returns the first one when `current` is null (the
// caller keeps it), refuses every other. Returns null when there is no new connection to keep.
QLocalSocket *takeFirstConnection(QLocalServer *server, QLocalSocket *current);

} // namespace magpie
