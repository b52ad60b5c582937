import io.github.relayapi.AdminClient;
import io.github.relayapi.RelayAPI;
import io.github.relayapi.RequestFilter;
import io.github.relayapi.RequestRecord;
import io.github.relayapi.TokenUsage;

public class UsageReport {
    public static void main(String[] args) {
        AdminClient admin = RelayAPI.fromEnv().admin();  // admin key: RELAYAPI_ADMIN_KEY
        for (TokenUsage usage : admin.tokens(args[0]).data()) {   // the tokens of one user (sub)
            System.out.println(usage.jti() + ": " + usage.calls() + " calls, " + usage.tokensUsed() + " tokens");
            for (RequestRecord r : admin.requests(RequestFilter.byToken(usage.jti())).data()) {
                System.out.println("  " + r.time() + " " + r.path() + " " + r.status());
            }
        }
    }
}
