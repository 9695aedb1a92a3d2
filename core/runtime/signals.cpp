#include "runtime/signals.hpp"

#include <lxcri/error.hpp>

#include <csignal>
#include <cctype>
#include <charconv>
#include <string>

namespace lxcri {
namespace {

struct NamedSignal {
    const char* name;
    int number;
};

constexpr NamedSignal signals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},   {"CHLD", SIGCHLD}, {"CONT", SIGCONT},
    {"FPE", SIGFPE},   {"HUP", SIGHUP},   {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},
    {"IOT", SIGIOT},   {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL}, {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP},
    {"SYS", SIGSYS},   {"TERM", SIGTERM}, {"TRAP", SIGTRAP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM},
    {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

}  // namespace

int parse_signal(std::string_view text) {
    auto invalid = [&] { return Error(Errc::invalid_input, "invalid signal '" + std::string(text) + "'"); };
    if (text.empty()) throw invalid();
    if (std::isdigit(static_cast<unsigned char>(text.front()))) {
        int number = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec != std::errc() || end != text.data() + text.size() || number < 1 || number > SIGRTMAX) throw invalid();
        return number;
    }
    std::string name;
    for (char c : text) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    for (const auto& s : signals)
        if (name == s.name) return s.number;
    if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
        bool min = name[2] == 'M' && name[3] == 'I';
        int base = min ? SIGRTMIN : SIGRTMAX;
        std::string_view rest = std::string_view(name).substr(5);
        if (rest.empty()) return base;
        int offset = 0;
        auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), offset);
        if ((rest[0] != '+' && rest[0] != '-') || ec != std::errc() || end != rest.data() + rest.size()) throw invalid();
        int number = rest[0] == '+' ? base + offset : base - offset;
        if (number < SIGRTMIN || number > SIGRTMAX) throw invalid();
        return number;
    }
    throw invalid();
}

}  // namespace lxcri
