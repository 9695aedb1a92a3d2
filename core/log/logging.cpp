#include "log/logging.hpp"

#include "util/time.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>

#include <boost/core/null_deleter.hpp>
#include <boost/json.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/utility/formatting_ostream.hpp>


#include <ext/stdio_filebuf.h>

#include <fcntl.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <optional>

namespace logging = boost::log;
namespace sinks = boost::log::sinks;

namespace lxcri::log {
namespace {

using Sink = sinks::synchronous_sink<sinks::text_ostream_backend>;

std::atomic<bool> debug_on{false};
bool logging_to_file = false;

std::string_view level_name(Level level) {
    switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
    }
    return "info";
}

logging::sources::severity_logger_mt<Level>& logger() {
    static logging::sources::severity_logger_mt<Level> instance;
    return instance;
}

Level record_level(const logging::record_view& record) {
    auto value = logging::extract<Level>("Severity", record);
    return value ? *value : Level::info;
}

std::string record_message(const logging::record_view& record) {
    auto value = logging::extract<std::string>("Message", record);
    return value ? *value : std::string();
}

// {"level":"error","msg":"...","time":"RFC3339"}: what podman and containerd parse.
void format_json(const logging::record_view& record, logging::formatting_ostream& out) {
    boost::json::object object;
    object["level"] = level_name(record_level(record));
    object["msg"] = record_message(record);
    object["time"] = rfc3339_now();
    out << boost::json::serialize(object);
}

void format_file_text(const logging::record_view& record, logging::formatting_ostream& out) {
    out << rfc3339_now() << ' ' << level_name(record_level(record)) << ' ' << record_message(record);
}

void format_terminal(const logging::record_view& record, logging::formatting_ostream& out) {
    Level level = record_level(record);
    out << "proxmox-lxcri: ";
    if (level != Level::info) out << level_name(level) << ": ";
    out << record_message(record);
}

boost::shared_ptr<Sink> make_sink(boost::shared_ptr<std::ostream> stream, const Options& options, bool to_file) {
    auto backend = boost::make_shared<sinks::text_ostream_backend>();
    backend->add_stream(stream);
    backend->auto_flush(true);
    auto sink = boost::make_shared<Sink>(backend);
    if (options.format == "json")
        sink->set_formatter(&format_json);
    else if (to_file)
        sink->set_formatter(&format_file_text);
    else
        sink->set_formatter(&format_terminal);
    Level min = options.debug ? Level::debug : Level::info;
    sink->set_filter([min](const logging::attribute_value_set& attrs) {
        auto level = attrs["Severity"].extract<Level>();
        return !level || *level >= min;
    });
    return sink;
}

// An output stream that owns a file descriptor.
class FdStream : public std::ostream {
public:
    explicit FdStream(int fd) : std::ostream(nullptr), buffer_(fd, std::ios::out) { rdbuf(&buffer_); }

private:
    __gnu_cxx::stdio_filebuf<char> buffer_;
};

boost::shared_ptr<std::ostream> open_stream(const Options& options) {
    if (!options.file) return boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter());
    // Close-on-exec, unlike std::ofstream's: hooks, the commands a backend
    // runs and the container must not inherit the log file.
    int fd = ::open(options.file->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno("open log file " + options.file->string(), errno, Errc::invalid_input);
    return boost::make_shared<FdStream>(fd);
}

// Where the next message goes, until it has a Boost.Log sink. The sink is
// made at the first message rather than by init(): most commands log
// nothing, and main configures twice (before and after the config file).
struct Pending {
    Options options;
    boost::shared_ptr<std::ostream> stream;
};
std::mutex pending_mutex;
std::optional<Pending> pending = Pending{Options{}, open_stream(Options{})};

// The new sink is made before the old one goes: the core is never without
// a sink once it has had one, because Boost.Log's default sink, used when
// there is none, writes to stdout, which engines read as the answer of
// `state` and `list`.
void install_pending() {
    std::lock_guard lock(pending_mutex);
    if (!pending) return;
    auto sink = make_sink(pending->stream, pending->options, pending->options.file.has_value());
    auto core = logging::core::get();
    core->remove_all_sinks();
    core->add_sink(sink);
    pending.reset();
}

}  // namespace

void init(const Options& options) {
    // The file is opened now, so that a bad --log fails here.
    auto stream = open_stream(options);
    std::lock_guard lock(pending_mutex);
    pending = Pending{options, std::move(stream)};
    debug_on = options.debug;
    logging_to_file = options.file.has_value();
}

void write(Level level, std::string_view message) {
    install_pending();
    auto& lg = logger();
    logging::record record = lg.open_record(logging::keywords::severity = level);
    if (record) {
        logging::record_ostream stream(record);
        stream << message;
        stream.flush();
        lg.push_record(std::move(record));
    }
}

bool debug_enabled() { return debug_on; }

void failure(const std::string& message) {
    write(Level::error, message);
    if (logging_to_file) std::cerr << "proxmox-lxcri: error: " << message << std::endl;
}

}  // namespace lxcri::log
