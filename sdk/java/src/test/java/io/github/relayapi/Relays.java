package io.github.relayapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The real relay and the Go mock provider, as child processes. Binaries come from
 * $RELAYAPI_BIN / $MOCKPROVIDER_BIN, else are built once with {@code go build} from ../../server.
 * Failing to build or start them fails the test (never skips).
 */
public final class Relays {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static Path relayBin;
  private static Path mockBin;

  private Relays() {}

  public static Path buildDir() {
    String p = System.getProperty("relayapi.buildDir");
    return (p != null ? Path.of(p) : Fixtures.sdk().resolve("target")).toAbsolutePath();
  }

  /** The relayapi binary. */
  public static synchronized Path relayBin() {
    if (relayBin == null) {
      relayBin = binary("RELAYAPI_BIN", "./cmd/relayapi", "relayapi");
    }
    return relayBin;
  }

  /** The mockprovider binary. */
  public static synchronized Path mockBin() {
    if (mockBin == null) {
      mockBin = binary("MOCKPROVIDER_BIN", "./cmd/mockprovider", "mockprovider");
    }
    return mockBin;
  }

  private static Path binary(String envVar, String pkg, String name) {
    String given = System.getenv(envVar);
    if (given != null && !given.isEmpty()) {
      Path p = Path.of(given);
      if (!Files.isRegularFile(p)) {
        throw new IllegalStateException(envVar + "=" + given + " does not exist");
      }
      return p;
    }
    Path out = buildDir().resolve("bin").resolve(name);
    String go = Files.isExecutable(Path.of("/usr/local/go/bin/go")) && !onPath("go") ? "/usr/local/go/bin/go" : "go";
    try {
      Files.createDirectories(out.getParent());
      Path log = Files.createTempFile("go-build", ".log");
      Process p =
          new ProcessBuilder(go, "build", "-o", out.toString(), pkg)
              .directory(Fixtures.repo().resolve("server").toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IllegalStateException("go build " + pkg + " failed:\n" + Files.readString(log));
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run go build (set " + envVar + "): " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean onPath(String cmd) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(":")) {
      if (Files.isExecutable(Path.of(dir, cmd))) {
        return true;
      }
    }
    return false;
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A child process with its output in a log file. */
  public static class Child implements AutoCloseable {
    final Process process;
    final Path log;

    Child(List<String> command, Path dir, Path log) throws IOException {
      this.log = log;
      ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().keySet().removeIf(k -> k.startsWith("RELAYAPI_"));
      this.process = pb.start();
    }

    /** The last part of the output, for failure messages. */
    public String output() {
      try {
        String s = Files.readString(log);
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }

    void waitHttp(String url) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(command() + " exited with " + process.exitValue() + ":\n" + output());
        }
        try {
          HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
          return; // it answers HTTP: it is up
        } catch (IOException e) {
          sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      close();
      throw new IllegalStateException(command() + " did not answer " + url + " within 30 s:\n" + output());
    }

    private String command() {
      return process.info().command().orElse("process");
    }
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The Go mock provider. */
  public static final class Mock extends Child {
    public final String url;

    private Mock(Path dir) throws IOException {
      super(List.of(mockBin().toString(), "--listen", "127.0.0.1:0"), dir, dir.resolve("mockprovider.log"));
      String addr = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (addr == null && System.nanoTime() < deadline) {
        for (String line : Files.readAllLines(log)) {
          if (line.startsWith("listening on ")) {
            addr = line.substring("listening on ".length()).trim();
          }
        }
        if (addr == null) {
          if (!process.isAlive()) {
            throw new IllegalStateException("mockprovider exited:\n" + output());
          }
          sleep(50);
        }
      }
      if (addr == null) {
        close();
        throw new IllegalStateException("mockprovider did not say where it listens:\n" + output());
      }
      url = "http://" + addr;
    }

    public static Mock start(Path dir) {
      try {
        Files.createDirectories(dir);
        return new Mock(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** What the mock received with the upstream key {@code key}. */
    public List<JsonNode> requests(String key) {
      try {
        HttpResponse<String> res =
            HTTP.send(
                HttpRequest.newBuilder(URI.create(url + "/_mock/requests?key=" + URLEncoder.encode(key, StandardCharsets.UTF_8))).build(),
                HttpResponse.BodyHandlers.ofString());
        List<JsonNode> out = new ArrayList<>();
        Json.MAPPER.readTree(res.body()).path("data").forEach(out::add);
        return out;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** The raw /_mock/requests answer for {@code key}. */
    public String requestsJson(String key) {
      return Fixtures.toJson(requests(key));
    }
  }

  /** A running {@code relayapi serve}. */
  public static final class Relay extends Child {
    /** The relay's root URL, with its base path. */
    public final String url;

    public final int port;

    private Relay(Path dir, int port, String basePath, List<String> command) throws IOException {
      super(command, dir, dir.resolve("relay.log"));
      this.port = port;
      this.url = "http://127.0.0.1:" + port + basePath;
      waitHttp(url + "/health");
    }

    /**
     * Starts a relay in {@code dir} with this config (JSON) and relay key file (JSON).
     *
     * @param basePath the base path the relay serves under ("" or "/relayapi")
     */
    public static Relay start(Path dir, JsonNode config, String relayRai, int port, String basePath) {
      try {
        Files.createDirectories(dir);
        Path configPath = dir.resolve("config.json");
        Path raiPath = dir.resolve("relay.rai");
        Files.writeString(configPath, config.toString());
        Files.writeString(raiPath, relayRai);
        List<String> command =
            List.of(
                relayBin().toString(), "serve", "--config", configPath.toString(), "--rai", raiPath.toString(),
                "--data", dir.resolve("data").toString(), "--listen", "127.0.0.1:" + port);
        return new Relay(dir, port, basePath, command);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** A relay config: these providers → the mock, an admin key, SQLite in the data folder. */
  public static ObjectNode config(String mockUrl, String adminKey, String... providers) {
    ObjectNode config = Json.MAPPER.createObjectNode();
    ObjectNode ps = config.putObject("providers");
    for (String p : providers) {
      ObjectNode provider = ps.putObject(p);
      provider.put("base_url", mockUrl);
      provider.putArray("allow_request_headers").add("x-mock-*");
    }
    if (adminKey != null) {
      config.putObject("admin").put("key", adminKey);
    }
    config.putObject("store").put("driver", "sqlite").put("url", "");
    return config;
  }
}
