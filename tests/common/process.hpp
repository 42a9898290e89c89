// Runs the waferscan command line as a child process, as a user would: arguments, a working
// directory, stdout through a pipe (read line by line for handshakes), stderr to a file, signals.
#pragma once

#include "common/sanitizers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace ws::testing {

inline std::filesystem::path cli_path() {
  return std::filesystem::path(WS_BINARY_DIR) / "bin" / "waferscan";
}

/// The child's stdout: a pipe this object reads, or one whose reader is already gone (every write
/// fails with EPIPE, as after `| head -n 1`).
enum class StdoutMode { read, dead_pipe };

class Process {
 public:
  /// Starts `cli_path() args...` in `cwd`.
  Process(const std::vector<std::string>& args, const std::filesystem::path& cwd,
          StdoutMode mode = StdoutMode::read)
      : err_path_(cwd / ("stderr-" + std::to_string(counter()++) + ".txt")) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    if (mode == StdoutMode::dead_pipe) {
      close(fds[0]);
      fds[0] = -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (fds[0] >= 0) posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    // The child must not inherit a blocked signal mask or ignored signals from the test runner.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    sigset_t all_default;
    sigfillset(&all_default);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all_default);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<std::string> argv_s{cli_path().string()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The machine lock is the test's own (its working directory): tests that run in parallel
    // are different machines, the processes of one test share one.
    std::vector<std::string> env_s{"WAFERSCAN_MACHINE_LOCK=" +
                                   (std::filesystem::absolute(cwd) / "machine.lock").string()};
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).rfind("WAFERSCAN_MACHINE_LOCK=", 0) != 0) env_s.emplace_back(*e);
    }
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    out_fd_ = fds[0];
    if (rc != 0) throw std::runtime_error("posix_spawn failed: " + std::to_string(rc));
  }
  ~Process() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Reads stdout until a line containing `needle` arrives (returns it) or the deadline passes.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        out_ += line + "\n";
        if (line.find(needle) != std::string::npos) return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) return std::nullopt;
    }
  }

  void signal(int sig) { kill(pid_, sig); }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// Waits for the exit (killing the child if it outlives `timeout`); returns the exit code, or
  /// 128+signal if it died of a signal, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(120) * kDeadlineFactor) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
      // Keep draining stdout so a child writing a lot never blocks on a full pipe.
      while (read_some(10)) {
      }
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        while (read_some(0)) {
        }
        out_ += pending_;
        pending_.clear();
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        exit_code_ = -1;
        return -1;
      }
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return *exit_code_;
  }

  [[nodiscard]] const std::string& out() const { return out_; }
  [[nodiscard]] std::string err() const {
    std::ifstream f(err_path_);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  // Reads what is available within `timeout_ms`; false at end of file or timeout.
  bool read_some(int timeout_ms) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      poll(nullptr, 0, 5);  // end of file: the child is exiting; do not spin
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::filesystem::path err_path_;
  std::string pending_;
  std::string out_;
  std::optional<int> exit_code_;
};

/// Runs the CLI to completion and returns (exit code, stdout, stderr).
struct CliResult {
  int code;
  std::string out;
  std::string err;
};
inline CliResult run_cli(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                         std::chrono::milliseconds timeout = std::chrono::seconds(120) *
                                                             kDeadlineFactor) {
  Process p(args, cwd);
  const int code = p.wait(timeout);
  return {code, p.out(), p.err()};
}

}  // namespace ws::testing
