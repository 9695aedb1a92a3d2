// The `prefix` mapping: an example of a mapping plugin built out of tree
// against the installed SDK (docs/PLUGINS.md, "Building a plugin out of
// tree"). Container ids that start with a rule's prefix get VMIDs from that
// rule's block; all other ids get the rest of the configured range
// (vmid-min..vmid-max without the blocks). Both count up from the lowest
// VMID, so with the default rule
//
//   db-main -> 1000, db-replica -> 1001, web -> 100, cache -> 101, ...
//
// Options ([prefix] in the config file):
//   rules = db-:1000-1999,web-:2000-2999   PREFIX:MIN-MAX, comma separated;
//                                         the longest matching prefix wins
//                                         (default db-:1000-1999)
//
// The contract (include/lxcri/mapping.hpp) asks for distinct candidates in
// the range, which this keeps. A block can fill up before the range does;
// then candidate() throws Errc::exhausted itself rather than hand a db-*
// container a VMID outside its block.

#include <lxcri/lxcri.hpp>

#include <algorithm>
#include <sstream>
#include <vector>

namespace {

struct Rule {
    std::string prefix;
    lxcri::VmidRange block;
};

lxcri::Error bad_rules(const std::string& item, const std::string& why) {
    return lxcri::Error(lxcri::Errc::invalid_input, "prefix.rules: '" + item + "': " + why);
}

std::vector<Rule> parse_rules(const std::string& text) {
    std::vector<Rule> rules;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (item.empty()) continue;
        size_t colon = item.rfind(':');
        size_t dash = item.find('-', colon == std::string::npos ? 0 : colon);
        if (colon == 0 || colon == std::string::npos || dash == std::string::npos)
            throw bad_rules(item, "expected PREFIX:MIN-MAX, e.g. db-:1000-1999");
        unsigned long min = 0, max = 0;
        try {
            size_t used_min = 0, used_max = 0;
            min = std::stoul(item.substr(colon + 1, dash - colon - 1), &used_min);
            max = std::stoul(item.substr(dash + 1), &used_max);
            if (used_min != dash - colon - 1 || used_max != item.size() - dash - 1) throw std::invalid_argument(item);
        } catch (const std::exception&) {
            throw bad_rules(item, "MIN and MAX must be numbers");
        }
        if (min < lxcri::vmid_hard_min || max > lxcri::vmid_hard_max || min > max)
            throw bad_rules(item, "the block must lie in 100..999999999 with MIN <= MAX");
        rules.push_back({item.substr(0, colon), {static_cast<lxcri::Vmid>(min), static_cast<lxcri::Vmid>(max)}});
    }
    std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.block.min < b.block.min; });
    for (size_t i = 1; i < rules.size(); ++i)
        if (rules[i].block.min <= rules[i - 1].block.max)
            throw lxcri::Error(lxcri::Errc::invalid_input,
                               "prefix.rules: the blocks of '" + rules[i - 1].prefix + "' and '" + rules[i].prefix +
                                   "' overlap");
    return rules;
}

class PrefixMapping final : public lxcri::MappingStrategy {
public:
    explicit PrefixMapping(const lxcri::PluginContext& context)
        : rules_(parse_rules(context.option("rules", "db-:1000-1999"))) {
        context.require_known_keys("prefix", {"rules"});
    }

    lxcri::Vmid candidate(std::string_view id, lxcri::VmidRange range, std::uint64_t attempt) const override {
        if (const Rule* rule = match(id)) return in_block(*rule, range, attempt);
        return outside_blocks(range, attempt);
    }

private:
    const Rule* match(std::string_view id) const {
        const Rule* best = nullptr;
        for (const auto& rule : rules_)
            if (id.substr(0, rule.prefix.size()) == rule.prefix && (!best || rule.prefix.size() > best->prefix.size()))
                best = &rule;
        return best;
    }

    // The rule's block, cut to the configured range.
    static lxcri::Vmid in_block(const Rule& rule, lxcri::VmidRange range, std::uint64_t attempt) {
        lxcri::VmidRange block{std::max(rule.block.min, range.min), std::min(rule.block.max, range.max)};
        if (block.min > block.max)
            throw lxcri::Error(lxcri::Errc::invalid_input,
                               "prefix.rules: the block of '" + rule.prefix + "' (" + to_string(rule.block) +
                                   ") lies outside the VMID range " + to_string(range));
        if (attempt >= block.size())
            throw lxcri::Error(lxcri::Errc::exhausted, "prefix: every VMID of the block of '" + rule.prefix +
                                                           "' (" + to_string(block) + ") is taken");
        return static_cast<lxcri::Vmid>(block.min + attempt);
    }

    // The attempt-th VMID of the range that lies in no block: walking the
    // blocks in ascending order, each one at or below the VMID pushes it up.
    lxcri::Vmid outside_blocks(lxcri::VmidRange range, std::uint64_t attempt) const {
        std::uint64_t vmid = range.min + attempt;
        for (const auto& rule : rules_)
            if (rule.block.max >= range.min && rule.block.min <= vmid)
                vmid += rule.block.max - std::max(rule.block.min, range.min) + 1;
        if (vmid > range.max)
            throw lxcri::Error(lxcri::Errc::exhausted,
                               "prefix: every VMID of " + to_string(range) + " outside the prefix blocks is taken");
        return static_cast<lxcri::Vmid>(vmid);
    }

    static std::string to_string(lxcri::VmidRange range) {
        return std::to_string(range.min) + ".." + std::to_string(range.max);
    }

    std::vector<Rule> rules_;
};

}  // namespace

LXCRI_MAPPING_PLUGIN(PrefixMapping, "prefix", "1.0.0",
                     "example: ids with a configured prefix (db-*) get their own VMID block (1000..1999)")
