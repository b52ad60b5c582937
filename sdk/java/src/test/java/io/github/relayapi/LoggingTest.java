package io.github.relayapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** Without a warnings sink, key-file warnings go to the System.Logger "io.github.relayapi" (JUL here). */
class LoggingTest {
  @Test
  void aesIvSeedIsOneWarningOnTheSdkLogger() {
    Logger logger = Logger.getLogger("io.github.relayapi");
    Level before = logger.getLevel();
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            records.add(record);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    logger.setLevel(Level.ALL);
    logger.addHandler(handler);
    boolean parents = logger.getUseParentHandlers();
    logger.setUseParentHandlers(false);
    try {
      RelayAPI.fromJson(Fixtures.v1Rai(8840).toString());
      assertEquals(1, records.size());
      assertEquals(Level.WARNING, records.get(0).getLevel());
      assertTrue(records.get(0).getMessage().contains("aes_iv_seed"));
      records.clear();
      RelayAPI.fromJson(Fixtures.aesRai().toString());
      assertTrue(records.isEmpty());
    } finally {
      logger.removeHandler(handler);
      logger.setUseParentHandlers(parents);
      logger.setLevel(before);
    }
  }
}
