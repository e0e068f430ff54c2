// Signed out. Local mode: paste the token `npm start` printed (or open the URL it printed, which
// carries it in the fragment). AWS: continue to Cognito's hosted sign-in page.
import { useState } from "preact/hooks";
import { Field, PageHeader } from "../components/ui.tsx";
import { CognitoSession, LocalSession, type Session } from "../lib/auth.ts";

export function SignInPage({
  session,
  problem,
  onSignedIn,
}: {
  session: Session;
  problem: string | null;
  onSignedIn: () => Promise<void>;
}) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | undefined>();
  return (
    <main id="main" class="sign-in">
      <PageHeader title="Sign in" />
      {problem && (
        <p class="banner banner-error" role="alert">
          {problem}
        </p>
      )}
      {session instanceof LocalSession && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            if (!token.trim()) {
              setError("Paste the token that npm start printed.");
              return;
            }
            setError(undefined);
            session.remember(token);
            await onSignedIn();
          }}
        >
          <p>
            Local mode. Open the URL that <code>npm start</code> printed (it signs you in), or paste its token
            here.
          </p>
          <Field label="Token" error={error}>
            {(props) => (
              <input
                {...props}
                type="password"
                autocomplete="off"
                value={token}
                onInput={(e) => setToken(e.currentTarget.value)}
              />
            )}
          </Field>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      )}
      {session instanceof CognitoSession && (
        <div>
          <p>Sign in with your account in this deployment's user pool.</p>
          <button type="button" class="primary" onClick={() => void session.signIn()}>
            Continue to sign-in
          </button>
        </div>
      )}
    </main>
  );
}
