import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.github.relayapi.RelayAPI;
import io.github.relayapi.Token;
import io.github.relayapi.TokenRequest;

public class ChatThroughRelay {
    public static void main(String[] args) {
        RelayAPI relay = RelayAPI.fromEnv(); // RELAYAPI_RAI: the .rai file's path, or its JSON
        Token token = relay.createToken(TokenRequest.builder()
                .apiKey(System.getenv("OPENAI_API_KEY"))
                .sub("user-42")                  // your user's id: the admin API lists tokens by it
                .maxCalls(5)
                .build());

        OpenAIClient client = OpenAIOkHttpClient.builder()
                .baseUrl(relay.baseUrl(token))   // {relay}/t/{token}/v1
                .apiKey("unused")                // the token in the URL is the credential
                .build();
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder()
                .model("gpt-4o-mini")
                .addUserMessage("Say hello")
                .build();

        client.chat().completions().create(params).choices()
                .forEach(choice -> System.out.println(choice.message().content().orElse("")));

        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices()
                    .forEach(choice -> choice.delta().content().ifPresent(System.out::print)));
        }
        System.out.println();
        client.close();
    }
}
