#include "cli/command.hpp"

#include "config/option_error.hpp"
#include "runtime/runtime.hpp"

#include <lxcri/error.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace lxcri::cli {
namespace {

std::map<std::string, Command>& registry() {
    static std::map<std::string, Command> instance;
    return instance;
}

}  // namespace

Context::Context(Config config) : config_(std::move(config)) {}
Context::~Context() = default;

Runtime& Context::runtime() {
    if (!runtime_) runtime_ = std::make_unique<Runtime>(config_);
    return *runtime_;
}

CommandRegistration::CommandRegistration(Command command) {
    std::string name = command.name;
    registry().emplace(std::move(name), std::move(command));
}

const std::map<std::string, Command>& commands() { return registry(); }

const Command& command(const std::string& name) {
    auto it = registry().find(name);
    if (it == registry().end()) throw Error(Errc::usage, "unknown command '" + name + "' (see proxmox-lxcri --help)");
    return it->second;
}

std::vector<Word> classify_words(const std::vector<std::string>& args, const po::options_description& options) {
    // Boost's default style: long options may be abbreviated, short ones
    // grouped (-dt), and a short option's value may be attached (-fjson).
    auto takes_value = [](const po::option_description* option) {
        return option && option->semantic()->min_tokens() > 0;
    };
    std::vector<Word> words;
    words.reserve(args.size());
    bool options_ended = false;
    bool value_next = false;
    for (const std::string& arg : args) {
        if (value_next) {
            words.push_back(Word::value);
            value_next = false;
        } else if (options_ended || arg.size() < 2 || arg[0] != '-') {
            words.push_back(Word::operand);
        } else if (arg == "--") {
            words.push_back(Word::separator);
            options_ended = true;
        } else if (arg[1] == '-') {
            const std::string name = arg.substr(2, arg.find('=') - 2);
            const po::option_description* option = options.find_nothrow(name, true);
            words.push_back(option ? Word::option : Word::unknown_option);
            value_next = arg.find('=') == std::string::npos && takes_value(option);
        } else {
            Word word = Word::option;
            for (std::size_t i = 1; i < arg.size(); ++i) {
                const po::option_description* option = options.find_nothrow("-" + arg.substr(i, 1), false, false, true);
                if (!option) {
                    word = Word::unknown_option;
                    break;
                }
                if (takes_value(option)) {
                    value_next = i + 1 == arg.size();  // else the rest of the word is the value
                    break;
                }
            }
            words.push_back(word);
        }
    }
    return words;
}

namespace {

// Boost's parser removes each word it has read from the front of a vector,
// which is quadratic in the number of words (50,000 `--arg X` took 24 s).
// So the words go to it a few hundred at a time, cut only between an option
// and the next, with every operand given as the option it stands for
// (`c1` -> `--id=c1`): each piece then reads the same alone.
po::parsed_options parse_in_pieces(const Command& command, const std::vector<std::string>& args,
                                   const po::options_description& options,
                                   const po::positional_options_description& positional) {
    constexpr std::size_t piece_size = 256;
    const std::vector<Word> words = classify_words(args, options);
    po::parsed_options parsed(&options);
    std::vector<std::string> piece;
    auto flush = [&] {
        po::parsed_options part = po::command_line_parser(piece).options(options).run();
        parsed.options.insert(parsed.options.end(), part.options.begin(), part.options.end());
        piece.clear();
    };
    unsigned operands = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (words[i] == Word::operand) {
            if (operands >= positional.max_total_count())
                throw Error(Errc::usage, command.name + ": unexpected argument '" + args[i] +
                                             "'; usage: proxmox-lxcri " + command.usage);
            const std::string option = "--" + positional.name_for_position(operands++);
            if (args[i].empty()) {
                piece.insert(piece.end(), {option, ""});  // Boost refuses an empty value after '='
            } else {
                piece.push_back(option + "=" + args[i]);
            }
        } else if (words[i] != Word::separator) {
            piece.push_back(args[i]);
        }
        if (piece.size() >= piece_size && (i + 1 == args.size() || words[i + 1] != Word::value)) flush();
    }
    if (!piece.empty()) flush();
    return parsed;
}

}  // namespace

std::optional<po::variables_map> parse_command_args(const Command& command, const std::vector<std::string>& args,
                                                    const po::options_description& options,
                                                    const po::positional_options_description& positional) {
    po::options_description all = options;
    all.add_options()("help,h", "show this help");
    po::variables_map vm;
    try {
        po::store(parse_in_pieces(command, args, all, positional), vm);
        if (vm.count("help")) {
            std::cout << "Usage: proxmox-lxcri " << command.usage << "\n\n" << command.summary << "\n\n" << all;
            return std::nullopt;
        }
        po::notify(vm);
    } catch (const po::required_option& e) {
        // An operand (positional) is named as the usage shows it: <id>.
        std::string name = e.get_option_name();
        name.erase(0, name.find_first_not_of('-'));
        for (unsigned i = 0; i < positional.max_total_count() && i < 16; ++i)
            if (positional.name_for_position(i) == name)
                throw Error(Errc::usage, command.name + ": missing <" + name + ">; usage: proxmox-lxcri " + command.usage);
        throw Error(Errc::usage, command.name + ": " + option_error_message(e));
    } catch (const po::error& e) {
        throw Error(Errc::usage, command.name + ": " + option_error_message(e));
    }
    return vm;
}

std::optional<std::string> file_option(const po::variables_map& vm, const std::string& name) {
    if (!vm.count(name) || vm[name].as<std::string>().empty()) return std::nullopt;
    return vm[name].as<std::string>();
}

}  // namespace lxcri::cli
