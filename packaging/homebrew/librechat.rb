# Homebrew formula for librechat: builds from source with cargo, installs the binary, a sample
# configuration in $(brew --prefix)/etc/librechat, completions and the man page, and runs as a
# service with `brew services start librechat`, its data in $(brew --prefix)/var/librechat.
#
# `url` and `sha256` name the release's source tarball; packaging/homebrew/update.sh sets them:
#   sh packaging/homebrew/update.sh https://…/librechat-0.1.0.tar.gz librechat-0.1.0.tar.gz
class Librechat < Formula
  desc "Self-hosted, multi-user AI chat service in one executable (LibreChat-compatible)"
  homepage "https://www.librechat.ai/"
  url "file:///dev/null/librechat-0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "MIT"

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
    (etc/"librechat").mkpath
    # Homebrew keeps an edited file and writes the new one beside it as .default.
    (etc/"librechat").install "packaging/config/librechat.yaml"
    (etc/"librechat").install "packaging/config/librechat.env"
    generate_completions_from_executable(bin/"librechat", "completions")
    (man1/"librechat.1").write Utils.safe_popen_read(bin/"librechat", "manpage")
  end

  def post_install
    (var/"librechat").mkpath
    (var/"log").mkpath
  end

  def caveats
    <<~EOS
      Settings: #{etc}/librechat/librechat.env (LibreChat's .env names) and
      #{etc}/librechat/librechat.yaml. Data: #{var}/librechat.
      The app listens on http://localhost:3080 once started.
    EOS
  end

  service do
    run [opt_bin/"librechat", "serve", "--data-dir", var/"librechat",
         "--config", etc/"librechat/librechat.yaml", "--env-file", etc/"librechat/librechat.env"]
    working_dir var/"librechat"
    keep_alive crashed: true
    log_path var/"log/librechat.log"
    error_log_path var/"log/librechat.log"
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/librechat --version")
    port = free_port
    pid = spawn bin/"librechat", "serve", "--port", port.to_s, "--data-dir", testpath/"data"
    begin
      health = ""
      30.times do
        health = Utils.popen_read("curl", "-s", "http://127.0.0.1:#{port}/health")
        break if health == "OK"

        sleep 1
      end
      assert_equal "OK", health
    ensure
      Process.kill("TERM", pid)
      Process.wait(pid)
    end
  end
end
