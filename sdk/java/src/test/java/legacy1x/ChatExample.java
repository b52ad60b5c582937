package legacy1x;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.relayapi.sdk.Config;
import com.github.relayapi.sdk.RelayAPIClient;
import com.github.relayapi.sdk.TokenOptions;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A backend program written against the RelayAPI 1.x Java SDK, as its README and example taught:
 * nothing here is specific to 2.x. LegacyIntegrationTest compiles it against this jar and runs it
 * (in a folder holding config.rai and .env) against the real relay.
 */
public class ChatExample {
    public static void main(String[] args) {
        try {
            // API key from the .env file
            Properties env = new Properties();
            env.load(Files.newBufferedReader(Paths.get(".env")));
            String apiKey = env.getProperty("RELAY_API_KEY");
            if (apiKey == null || apiKey.trim().isEmpty()) {
                throw new IllegalStateException("RELAY_API_KEY not found in .env file");
            }

            // Load the config file
            String configContent = Files.readString(Paths.get("config.rai"));
            ObjectMapper mapper = new ObjectMapper();
            Config config = mapper.readValue(configContent, Config.class);

            // Create the client
            RelayAPIClient client = new RelayAPIClient(config);

            // Create a token
            TokenOptions options = new TokenOptions(apiKey)
                    .setMaxCalls(100)
                    .setExpireSeconds(3600)
                    .setProvider("dashscope");
            String token = client.createToken(options);

            // Base URL
            String baseUrl = client.generateUrl(token, "");
            System.out.println("Base URL: " + baseUrl);

            // Chat
            RelayAPIClient.ChatRequest chatRequest = new RelayAPIClient.ChatRequest(token)
                    .setMessages(List.of(
                            Map.of("role", "system", "content", "You are a helpful assistant."),
                            Map.of("role", "user", "content", "What is the capital of France?")
                    ))
                    .setModel("qwen-vl-max")
                    .setTemperature(0.7)
                    .setMaxTokens(1000);

            System.out.println("Sending chat request...");
            Map<String, Object> chatResponse = client.chat(chatRequest);
            System.out.println("Chat response: " + mapper.writeValueAsString(chatResponse));

            // Image
            RelayAPIClient.ImageRequest imageRequest = new RelayAPIClient.ImageRequest(token)
                    .setPrompt("A beautiful sunset over Paris")
                    .setModel("dall-e-3")
                    .setSize("1024x1024")
                    .setQuality("standard")
                    .setN(1);

            System.out.println("Generating image...");
            Map<String, Object> imageResponse = client.generateImage(imageRequest);
            System.out.println("Image response: " + mapper.writeValueAsString(imageResponse));

            // Embedding
            RelayAPIClient.EmbeddingRequest embeddingRequest = new RelayAPIClient.EmbeddingRequest(token)
                    .setInput("The quick brown fox jumps over the lazy dog")
                    .setModel("text-embedding-ada-002");

            System.out.println("Generating embedding...");
            Map<String, Object> embeddingResponse = client.createEmbedding(embeddingRequest);
            System.out.println("Embedding response: " + mapper.writeValueAsString(embeddingResponse));

            // Health
            System.out.println("Checking server health...");
            Map<String, Object> healthStatus = client.healthCheck();
            System.out.println("Health status: " + mapper.writeValueAsString(healthStatus));

        } catch (Exception e) {
            System.err.println("Error: " + e.getMessage());
            e.printStackTrace();
        }
    }
}
