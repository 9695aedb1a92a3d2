#define BOOST_TEST_MODULE unix_socket
#include <boost/test/unit_test.hpp>

#include "support/test_support.hpp"

#include <lxcri/error.hpp>
#include <lxcri/init_client.hpp>
#include <lxcri/unix_socket.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

// Descriptor passing over unix sockets (include/lxcri/unix_socket.hpp), as
// the init helper and the runtime use it for terminals.
namespace fs = std::filesystem;
using lxcri::test::TempDir;

namespace {

// A directory deeper than sun_path's 108 bytes.
fs::path deep_dir(const TempDir& tmp) {
    fs::path dir = tmp.path();
    while (dir.string().size() < 150) dir /= "a-rather-long-directory-name";
    fs::create_directories(dir);
    return dir;
}

std::string read_all(int fd) {
    char buffer[64] = {};
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_descriptor_travels_through_a_socket_with_a_long_path) {
    TempDir tmp;
    fs::path socket = deep_dir(tmp) / "console.sock";
    BOOST_REQUIRE(socket.string().size() > 108);
    lxcri::UniqueFd listener = lxcri::listen_unix(socket);
    struct stat st {};
    BOOST_REQUIRE(::stat(socket.c_str(), &st) == 0);
    BOOST_TEST(S_ISSOCK(st.st_mode));
    BOOST_TEST((st.st_mode & 0777) == 0600u);

    int pipe_fds[2];
    BOOST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    lxcri::UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    {
        lxcri::UniqueFd sender = lxcri::connect_unix(socket);
        lxcri::send_fd(sender.get(), write_end.get(), "pipe");
    }
    lxcri::ReceiveOptions options;
    options.peer = ::getpid();
    lxcri::UniqueFd received = lxcri::receive_fd(listener.get(), options);
    BOOST_REQUIRE(received);
    write_end.reset();
    BOOST_REQUIRE(::write(received.get(), "hello", 5) == 5);
    received.reset();
    BOOST_TEST(read_all(read_end.get()) == "hello");
}

BOOST_AUTO_TEST_CASE(the_wait_ends_at_the_timeout_or_when_told) {
    TempDir tmp;
    lxcri::UniqueFd listener = lxcri::listen_unix(tmp / "s");
    lxcri::ReceiveOptions options;
    options.timeout = std::chrono::milliseconds(100);
    BOOST_CHECK_THROW(lxcri::receive_fd(listener.get(), options), lxcri::Error);
    options.timeout = std::chrono::seconds(60);
    int calls = 0;
    options.keep_waiting = [&] { return ++calls < 3; };
    BOOST_CHECK_THROW(lxcri::receive_fd(listener.get(), options), lxcri::Error);
    BOOST_TEST(calls == 3);
}

BOOST_AUTO_TEST_CASE(a_connection_from_another_pid_is_dropped) {
    TempDir tmp;
    lxcri::UniqueFd listener = lxcri::listen_unix(tmp / "s");
    {
        lxcri::UniqueFd sender = lxcri::connect_unix(tmp / "s");
        lxcri::send_fd(sender.get(), 0, "stdin");
    }
    lxcri::ReceiveOptions options;
    options.peer = ::getpid() + 1;  // not us
    options.timeout = std::chrono::milliseconds(300);
    BOOST_CHECK_THROW(lxcri::receive_fd(listener.get(), options), lxcri::Error);
}

BOOST_AUTO_TEST_CASE(receive_terminal_takes_only_a_pty_master) {
    TempDir tmp;
    lxcri::UniqueFd listener = lxcri::listen_unix(tmp / "s");
    {
        lxcri::UniqueFd sender = lxcri::connect_unix(tmp / "s");
        lxcri::send_fd(sender.get(), 0, "not a pty");  // stdin: /dev/null under ctest
    }
    lxcri::ReceiveOptions options;
    options.timeout = std::chrono::seconds(5);
    BOOST_CHECK_THROW(lxcri::receive_terminal(listener.get(), options), lxcri::Error);

    lxcri::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    BOOST_REQUIRE(master);
    {
        lxcri::UniqueFd sender = lxcri::connect_unix(tmp / "s");
        lxcri::send_fd(sender.get(), master.get(), "ptmx");
    }
    BOOST_TEST(static_cast<bool>(lxcri::receive_terminal(listener.get(), options)));
}

BOOST_AUTO_TEST_CASE(an_existing_path_is_not_replaced) {
    TempDir tmp;
    lxcri::test::write_text(tmp / "taken", "x");
    BOOST_CHECK_THROW(lxcri::listen_unix(tmp / "taken"), lxcri::Error);
    BOOST_TEST(lxcri::test::read_text(tmp / "taken") == "x");
}

// The pct backend's handover (init_protocol.hpp, step 5): several
// descriptors in one message, in order, with a payload naming them; the
// receiver learns who connected from the kernel.
BOOST_AUTO_TEST_CASE(several_descriptors_travel_in_order_and_the_peer_is_known) {
    TempDir tmp;
    lxcri::UniqueFd listener = lxcri::listen_unix(tmp / "s");
    lxcri::UniqueFd sender = lxcri::connect_unix(tmp / "s");
    lxcri::UniqueFd connection = lxcri::accept_connection(listener.get(), {});
    BOOST_TEST(lxcri::peer_pid(connection.get()) == ::getpid());

    std::vector<lxcri::UniqueFd> write_ends, read_ends;
    std::vector<int> fds;
    for (int i = 0; i < 3; ++i) {
        int pipe_fds[2];
        BOOST_REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
        read_ends.emplace_back(pipe_fds[0]);
        write_ends.emplace_back(pipe_fds[1]);
        fds.push_back(pipe_fds[1]);
    }
    lxcri::send_fds(connection.get(), fds, "stdio");
    auto message = lxcri::receive_fds(sender.get());
    BOOST_TEST(message.payload == "stdio");
    BOOST_REQUIRE_EQUAL(message.fds.size(), 3u);
    write_ends.clear();
    for (int i = 0; i < 3; ++i) {
        std::string text = "fd" + std::to_string(i);
        BOOST_REQUIRE(::write(message.fds[i].get(), text.data(), text.size()) == 3);
    }
    message.fds.clear();
    for (int i = 0; i < 3; ++i) BOOST_TEST(read_all(read_ends[i].get()) == "fd" + std::to_string(i));

    // Too many descriptors, or no payload, are refused before anything is sent.
    std::vector<int> many(lxcri::max_fds_per_message + 1, 0);
    BOOST_CHECK_THROW(lxcri::send_fds(connection.get(), many, "x"), lxcri::Error);
    BOOST_CHECK_THROW(lxcri::send_fds(connection.get(), {}, ""), lxcri::Error);
    // The other end closed without a message: an error, not an empty message.
    connection.reset();
    BOOST_CHECK_THROW(lxcri::receive_fds(sender.get()), lxcri::Error);
}
