// The Boost.Log sink of the one logger, a module of its own
// (<libdir>/proxmox-lxcri/log-sink.so) that the core loads at the first
// message it writes (core/log/logging.cpp): most commands, `state` and
// `kill` of a running container among them, log nothing, and Boost.Log
// with Boost.Thread took a quarter of every command's start-up
// (docs/PERFORMANCE.md). Its two functions are the whole interface
// (log_sink.hpp).

#include "log/sink/log_sink.hpp"

#include <boost/core/null_deleter.hpp>
#include <boost/json.hpp>
#include <boost/log/attributes/attribute_value_impl.hpp>
#include <boost/log/attributes/value_extraction.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>
#include <boost/log/utility/formatting_ostream.hpp>

#include <ext/stdio_filebuf.h>

#include <iostream>
#include <string>

namespace logging = boost::log;
namespace sinks = boost::log::sinks;
using lxcri::log::Level;

namespace {

using Sink = sinks::synchronous_sink<sinks::text_ostream_backend>;

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

template <typename T>
T attribute(const logging::record_view& record, const char* name, T fallback) {
    auto value = logging::extract<T>(name, record);
    return value ? *value : fallback;
}

Level record_level(const logging::record_view& record) { return attribute(record, "Severity", Level::info); }
std::string record_message(const logging::record_view& record) { return attribute<std::string>(record, "Message", {}); }
std::string record_time(const logging::record_view& record) { return attribute<std::string>(record, "Time", {}); }

// {"level":"error","msg":"...","time":"RFC3339"}: what podman and containerd parse.
void format_json(const logging::record_view& record, logging::formatting_ostream& out) {
    boost::json::object object;
    object["level"] = level_name(record_level(record));
    object["msg"] = record_message(record);
    object["time"] = record_time(record);
    out << boost::json::serialize(object);
}

void format_file_text(const logging::record_view& record, logging::formatting_ostream& out) {
    out << record_time(record) << ' ' << level_name(record_level(record)) << ' ' << record_message(record);
}

void format_terminal(const logging::record_view& record, logging::formatting_ostream& out) {
    Level level = record_level(record);
    out << "proxmox-lxcri: ";
    if (level != Level::info) out << level_name(level) << ": ";
    out << record_message(record);
}

// An output stream that owns a file descriptor.
class FdStream : public std::ostream {
public:
    explicit FdStream(int fd) : std::ostream(nullptr), buffer_(fd, std::ios::out) { rdbuf(&buffer_); }

private:
    __gnu_cxx::stdio_filebuf<char> buffer_;
};

}  // namespace

// Nothing may leave these functions as an exception: the static
// proxmox-lxcri has a libstdc++ of its own, this module the shared one, and
// only C crosses between them. A message that cannot be written is lost.
extern "C" {

// The new sink is made before the old one goes: the core is never without
// a sink once it has had one, because Boost.Log's default sink, used when
// there is none, writes to stdout, which engines read as the answer of
// `state` and `list`.
LXCRI_LOG_SINK_EXPORT void lxcri_log_sink_open(int fd, int json, int debug) try {
    boost::shared_ptr<std::ostream> stream;
    if (fd < 0)
        stream.reset(&std::clog, boost::null_deleter());
    else
        stream = boost::make_shared<FdStream>(fd);
    auto backend = boost::make_shared<sinks::text_ostream_backend>();
    backend->add_stream(stream);
    backend->auto_flush(true);
    auto sink = boost::make_shared<Sink>(backend);
    if (json)
        sink->set_formatter(&format_json);
    else if (fd >= 0)
        sink->set_formatter(&format_file_text);
    else
        sink->set_formatter(&format_terminal);
    Level min = debug ? Level::debug : Level::info;
    sink->set_filter([min](const logging::attribute_value_set& attrs) {
        auto level = attrs["Severity"].extract<Level>();
        return !level || *level >= min;
    });
    auto core = logging::core::get();
    core->remove_all_sinks();
    core->add_sink(sink);
} catch (...) {
}

LXCRI_LOG_SINK_EXPORT void lxcri_log_sink_write(int level, const char* message, std::size_t size, const char* time) try {
    auto& lg = logger();
    logging::record record = lg.open_record(logging::keywords::severity = static_cast<Level>(level));
    if (record) {
        record.attribute_values().insert("Time", logging::attributes::make_attribute_value(std::string(time)));
        logging::record_ostream stream(record);
        stream << std::string_view(message, size);
        stream.flush();
        lg.push_record(std::move(record));
    }
} catch (...) {
}

}  // extern "C"
