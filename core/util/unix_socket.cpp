#include <lxcri/error.hpp>
#include <lxcri/unix_socket.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace lxcri {
namespace {

// The socket's address: the path itself when it fits into sun_path, else
// /proc/self/fd/<dir>/<name>, with `dir` keeping the directory open while
// the address is used.
sockaddr_un address_of(const fs::path& path, UniqueFd& dir) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (!path.filename().empty() && path.string().size() < sizeof addr.sun_path) {
        std::memcpy(addr.sun_path, path.c_str(), path.string().size() + 1);
        return addr;
    }
    fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    dir = UniqueFd(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) throw_errno("open " + parent.string(), errno);
    std::string name = "/proc/self/fd/" + std::to_string(dir.get()) + "/" + path.filename().string();
    if (path.filename().empty() || name.size() >= sizeof addr.sun_path)
        throw Error(Errc::invalid_input, "bad socket name: " + path.string());
    std::memcpy(addr.sun_path, name.c_str(), name.size() + 1);
    return addr;
}

// A message of `size` bytes at `data` with room for max_fds_per_message descriptors.
struct FdsMessage {
    iovec iov;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_message)] = {};
    msghdr msg{};

    FdsMessage(void* data, std::size_t size) : iov{data, size} {
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }
    FdsMessage(const FdsMessage&) = delete;  // msg points into this object
    FdsMessage& operator=(const FdsMessage&) = delete;
};

}  // namespace

UniqueFd listen_unix(const fs::path& path) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket", errno);
    UniqueFd dir;
    sockaddr_un addr = address_of(path, dir);
    // The socket file gets the mode of the socket's inode (less the umask)
    // at bind: no chmod by path afterwards, which a symlink could redirect.
    if (::fchmod(sock.get(), 0600) != 0) throw_errno("fchmod socket", errno);
    if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw_errno("bind " + path.string(), errno);
    if (::listen(sock.get(), 1) != 0) {
        int err = errno;
        ::unlink(path.c_str());
        throw_errno("listen on " + path.string(), err);
    }
    return sock;
}

UniqueFd connect_unix(const fs::path& path) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket", errno);
    UniqueFd dir;
    sockaddr_un addr = address_of(path, dir);
    int rc;
    do {
        rc = ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) throw_errno("connect to " + path.string(), errno);
    return sock;
}

void send_fd(int socket, int fd, std::string_view payload) {
    send_fds(socket, std::span<const int>(&fd, 1), payload.empty() ? std::string_view(" ") : payload);
}

void send_fds(int socket, std::span<const int> fds, std::string_view payload) {
    if (fds.size() > max_fds_per_message || payload.empty() || payload.size() > 4096)
        throw Error(Errc::invalid_input, "a message carries 1 to 4096 bytes and at most " +
                                             std::to_string(max_fds_per_message) + " descriptors");
    std::string data(payload);
    FdsMessage message(data.data(), data.size());
    msghdr& msg = message.msg;
    if (fds.empty()) {
        msg.msg_control = nullptr;
        msg.msg_controllen = 0;
    } else {
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t sent;
    do {
        sent = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) throw_errno("send file descriptors", errno);
}

FdMessage receive_fds(int socket) {
    char data[4096];
    FdsMessage message(data, sizeof data);
    msghdr& msg = message.msg;
    ssize_t n;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw_errno("receive file descriptors", errno);
    // Every descriptor that arrived is ours to close, whatever else is wrong.
    FdMessage received;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            received.fds.emplace_back(fd);
        }
    }
    if (n == 0 && received.fds.empty()) throw Error(Errc::failed, "the sender closed the connection without a message");
    if (msg.msg_flags & MSG_CTRUNC)
        throw Error(Errc::failed, "a message carried more than " + std::to_string(max_fds_per_message) +
                                      " file descriptors");
    received.payload.assign(data, static_cast<std::size_t>(n));
    return received;
}

pid_t peer_pid(int socket) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) throw_errno("SO_PEERCRED", errno);
    return cred.pid;
}

UniqueFd accept_connection(int listener, const ReceiveOptions& options) {
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    for (;;) {
        if (options.keep_waiting && !options.keep_waiting())
            throw Error(Errc::failed, "the sender went away before it connected");
        if (std::chrono::steady_clock::now() > deadline)
            throw Error(Errc::failed, "nothing arrived within " + std::to_string(options.timeout.count()) + " ms");
        pollfd p{listener, POLLIN, 0};
        int ready = ::poll(&p, 1, 50);
        if (ready < 0 && errno != EINTR) throw_errno("poll", errno);
        if (ready <= 0) continue;
        UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) {
            if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
            throw_errno("accept", errno);
        }
        if (options.peer && peer_pid(conn.get()) != *options.peer) continue;  // not the process we wait for: drop it
        return conn;
    }
}

UniqueFd receive_fd(int listener, const ReceiveOptions& options) {
    auto deadline = std::chrono::steady_clock::now() + options.timeout;
    for (;;) {
        ReceiveOptions rest = options;
        rest.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        UniqueFd conn = accept_connection(listener, rest);
        // The sender wrote before closing: a short wait, not the whole timeout.
        pollfd c{conn.get(), POLLIN, 0};
        if (::poll(&c, 1, 5000) <= 0) continue;
        FdMessage message = receive_fds(conn.get());
        if (message.fds.size() != 1)
            throw Error(Errc::failed, "the message did not carry exactly one file descriptor");
        return std::move(message.fds.front());
    }
}

}  // namespace lxcri
