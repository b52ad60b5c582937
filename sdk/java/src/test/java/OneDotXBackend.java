import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.relayapi.sdk.Config;
import com.github.relayapi.sdk.RelayAPIClient;
import com.github.relayapi.sdk.TokenOptions;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

public class OneDotXBackend {
    public static void main(String[] args) throws Exception {
        Config config = new ObjectMapper().readValue(Files.readString(Paths.get("config.rai")), Config.class);
        RelayAPIClient client = new RelayAPIClient(config);

        String token = client.createToken(new TokenOptions(System.getenv("OPENAI_API_KEY"))
                .setMaxCalls(100)
                .setExpireSeconds(3600)
                .setProvider("openai"));
        System.out.println("Base URL: " + client.generateUrl(token, "")); // {relay}/t/{token}/v1

        Map<String, Object> reply = client.chat(new RelayAPIClient.ChatRequest(token)
                .setMessages(List.of(Map.of("role", "user", "content", "What is the capital of France?")))
                .setModel("gpt-4o-mini"));
        System.out.println(reply.get("choices"));
    }
}
