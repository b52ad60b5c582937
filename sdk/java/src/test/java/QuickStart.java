import io.github.relayapi.RelayAPI;
import io.github.relayapi.Token;
import io.github.relayapi.TokenRequest;
import java.nio.file.Path;
import java.time.Duration;

public class QuickStart {
    public static void main(String[] args) {
        RelayAPI relay = RelayAPI.fromFile(Path.of("default.rai"));
        Token token = relay.createToken(TokenRequest.builder()
                .apiKey(System.getenv("OPENAI_API_KEY")) // the real key: encrypted inside the token
                .models("gpt-4o-mini")
                .maxCalls(20)
                .expiresIn(Duration.ofMinutes(10))
                .build());
        System.out.println(relay.baseUrl(token)); // http://127.0.0.1:8840/t/<token>/v1
    }
}
