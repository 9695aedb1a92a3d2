#include "image/pull.hpp"

#include "image/image.hpp"
#include "util/fs.hpp"
#include "util/time.hpp"

#include <lxcri/error.hpp>
#include <lxcri/log.hpp>
#include <lxcri/process.hpp>
#include <lxcri/sha256.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace fs = std::filesystem;

namespace lxcri::image {
namespace {

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// skopeo's last line says what went wrong ("time=... level=fatal msg=...").
std::string skopeo_message(const std::string& err) {
    std::string text = trimmed(err);
    const size_t line = text.rfind('\n');
    if (line != std::string::npos) text = text.substr(line + 1);
    const size_t msg = text.find("msg=");
    if (msg != std::string::npos) text = text.substr(msg + 4);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
    return text.empty() ? "no message" : text;
}

void run_skopeo(const std::vector<std::string>& argv, bool progress) {
    try {
        if (!progress) {
            ProcessResult result = run_process("skopeo", argv);
            if (result.exit_code != 0)
                throw Error(Errc::failed, "skopeo copy: " + skopeo_message(result.err.empty() ? result.out : result.err));
            return;
        }
        // On a terminal skopeo draws its own progress bars, and prints its
        // own error above ours.
        pid_t pid = spawn_process("skopeo", argv);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw Error(Errc::failed, "skopeo copy failed (its message is above)");
    } catch (const Error& e) {
        if (e.code() == Errc::not_found)
            throw Error(Errc::not_found, "skopeo is not installed (pull runs it: apt-get install skopeo)");
        throw;
    }
}

}  // namespace

std::string pull(const StorePaths& store, const Reference& ref, const PullOptions& options) {
    if (ref.transport != Transport::docker)
        throw Error(Errc::invalid_input, "pull: '" + ref.text + "': only docker:// references are pulled");
    store.create();
    FileLock in_use(store.lock(), FileLock::Mode::shared);
    FileLock pulling(store.pull_lock());

    const std::string canonical = ref.canonical();
    // skopeo cannot take a tag and a digest at once; the digest decides.
    const std::string source = "docker://" + ref.repository + (ref.digest.empty() ? ":" + ref.tag : "@" + ref.digest);
    const std::string tag = "lxcri-" + sha256_hex(canonical).substr(0, 32);
    const fs::path digest_file = store.tmp() / ("pull-" + std::to_string(::getpid()) + ".digest");
    std::vector<std::string> argv{"skopeo", "copy", "--digestfile", digest_file.string()};
    if (!options.progress) argv.push_back("--quiet");
    if (options.authfile) argv.insert(argv.end(), {"--src-authfile", options.authfile->string()});
    if (options.cert_dir) argv.insert(argv.end(), {"--src-cert-dir", options.cert_dir->string()});
    if (!options.tls_verify) argv.push_back("--src-tls-verify=false");
    if (options.platform) {
        argv.insert(argv.end(), {"--override-os", options.platform->os, "--override-arch", options.platform->architecture});
        if (!options.platform->variant.empty()) argv.insert(argv.end(), {"--override-variant", options.platform->variant});
    }
    argv.insert(argv.end(), {source, "oci:" + store.layout().string() + ":" + tag});

    std::string digest;
    try {
        run_skopeo(argv, options.progress);
        digest = trimmed(read_file(digest_file));
        ::unlink(digest_file.c_str());
    } catch (const Error& e) {
        ::unlink(digest_file.c_str());
        throw e.with_context("pull " + canonical);
    }
    if (!is_sha256_digest(digest))
        throw Error(Errc::failed, "pull " + canonical + ": skopeo wrote no manifest digest ('" + digest + "')");

    // The manifest and config we got are ones we can use, for the platform asked.
    Reference stored;
    stored.transport = Transport::oci;
    stored.path = store.layout();
    stored.digest = digest;
    stored.text = canonical;
    ImageSource image(stored, options.platform, store);

    auto pulled = read_pulled(store);
    pulled[canonical] = PulledImage{digest, image.image().platform.to_string(), rfc3339_now()};
    write_pulled(store, pulled);
    log::debug("pulled " + canonical + " as " + digest);
    return digest;
}

}  // namespace lxcri::image
