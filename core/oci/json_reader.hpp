#pragma once

// Typed access to a JSON document that records a Problem, instead of
// throwing, for each member of the wrong type or out of range, so a check
// can go on and report everything at once. Internal to the core: config.json
// (core/oci, core/lxc) and the runtime's own state files (core/state).

#include "oci/parser.hpp"

#include <lxcri/json_path.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lxcri::oci::detail {

// Integers other than bool (bool is read as a JSON boolean).
template <class T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;

class Problems {
public:
    void add(std::string path, std::string message) {
        list_.push_back({std::move(path), std::move(message)});
    }
    const std::vector<Problem>& list() const { return list_; }
    std::vector<Problem> take() { return std::move(list_); }

    // Each reports a problem at `path` and returns nullopt / nullptr when
    // `value` is not of the kind asked for.
    const boost::json::object* object(const boost::json::value& value, const std::string& path);
    const boost::json::array* array(const boost::json::value& value, const std::string& path);
    std::optional<std::string> string(const boost::json::value& value, const std::string& path);
    std::optional<bool> boolean(const boost::json::value& value, const std::string& path);

    // An integer in [lo, hi] (by default T's whole range). A number written
    // with a fraction or exponent ("1.0", "1e3") is not an integer, as for
    // Go's decoder; one too large for any C++ integer type is out of range.
    template <Integer T>
    std::optional<T> integer(const boost::json::value& value, const std::string& path,
                             T lo = std::numeric_limits<T>::min(),
                             T hi = std::numeric_limits<T>::max()) {
        enum { ok, below, above, not_integer } verdict = not_integer;
        if (const auto* i = value.if_int64()) {
            verdict = std::cmp_less(*i, lo) ? below : std::cmp_greater(*i, hi) ? above : ok;
            if (verdict == ok) return static_cast<T>(*i);
        } else if (const auto* u = value.if_uint64()) {
            verdict = std::cmp_less(*u, lo) ? below : std::cmp_greater(*u, hi) ? above : ok;
            if (verdict == ok) return static_cast<T>(*u);
        } else if (const auto* d = value.if_double()) {
            // The parser keeps every integer that fits 64 bits as one, so an
            // integral double is either written "5.0" / "5e0" or beyond 64 bits.
            if (std::isfinite(*d) && std::trunc(*d) == *d) {
                if (*d >= 0x1p64)
                    verdict = above;
                else if (*d <= -0x1p63)  // -2^63 itself would have been an int64
                    verdict = below;
            }
        }
        if (verdict == not_integer) {
            add(path, "must be an integer");
        } else {
            add(path, range_message(verdict == below, lo, hi));
        }
        return std::nullopt;
    }

private:
    template <Integer T>
    static std::string range_message(bool below, T lo, T hi) {
        using limits = std::numeric_limits<T>;
        // A bound that is only the C++ type's says less than the other one.
        if (hi == limits::max() || (lo == limits::min() && limits::is_signed))
            return below ? "must be >= " + std::to_string(lo) : "must be <= " + std::to_string(hi);
        return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
    }

    std::vector<Problem> list_;
};

// The members of one JSON object, read field by field. Absent members and
// members that are JSON null leave the output untouched.
class Fields {
public:
    Fields(Problems& problems, const boost::json::object& object, std::string path)
        : problems_(problems), object_(object), path_(std::move(path)) {}

    Problems& problems() const { return problems_; }
    const std::string& path() const { return path_; }
    std::string path_of(std::string_view key) const { return member_path(path_, key); }
    void add(std::string_view key, std::string message) const {
        problems_.add(path_of(key), std::move(message));
    }

    // The member, or nullptr when absent or null.
    const boost::json::value* find(std::string_view key) const;
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // True when present; otherwise reports "is required".
    bool require(std::string_view key) const;

    // Each returns true when the member was present and valid, and then sets `out`.
    bool read(std::string_view key, std::string& out) const;
    bool read(std::string_view key, bool& out) const;
    bool read(std::string_view key, std::optional<bool>& out) const;
    bool read(std::string_view key, std::vector<std::string>& out) const;
    // Keys must not be empty.
    bool read(std::string_view key, std::map<std::string, std::string>& out) const;

    template <Integer T>
    bool read(std::string_view key, T& out, T lo = std::numeric_limits<T>::min(),
              T hi = std::numeric_limits<T>::max()) const {
        const auto* value = find(key);
        if (!value) return false;
        auto got = problems_.integer<T>(*value, path_of(key), lo, hi);
        if (got) out = *got;
        return got.has_value();
    }

    template <Integer T>
    bool read(std::string_view key, std::optional<T>& out, T lo = std::numeric_limits<T>::min(),
              T hi = std::numeric_limits<T>::max()) const {
        T value{};
        if (!read(key, value, lo, hi)) return false;
        out = value;
        return true;
    }

    template <Integer T>
    bool read(std::string_view key, std::vector<T>& out) const {
        const auto* array = this->array(key);
        if (!array) return false;
        bool ok = true;
        std::vector<T> result;
        for (std::size_t i = 0; i < array->size(); ++i) {
            auto got = problems_.integer<T>((*array)[i], index_path(path_of(key), i));
            if (got)
                result.push_back(*got);
            else
                ok = false;
        }
        if (ok) out = std::move(result);
        return ok;
    }

    // The member if it is of that kind; nullptr when absent (no problem)
    // or of another kind (a problem).
    const boost::json::object* object(std::string_view key) const;
    const boost::json::array* array(std::string_view key) const;

private:
    Problems& problems_;
    const boost::json::object& object_;
    std::string path_;
};

}  // namespace lxcri::oci::detail
