// Entry point: read config.json, finish any sign-in redirect, then render the console.
import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { Console } from "./app.tsx";
import { CognitoSession, LocalSession, type Session, takeTokenFromFragment } from "./lib/auth.ts";
import { loadConfig } from "./lib/config.ts";

async function start(root: HTMLElement) {
  const config = await loadConfig();
  let session: Session;
  if (config.mode === "local") {
    takeTokenFromFragment(location, sessionStorage, history);
    session = new LocalSession();
  } else {
    const cognito = new CognitoSession(config);
    await cognito.completeSignIn();
    session = cognito;
  }
  render(<Console session={session} apiUrl={config.apiUrl} />, root);
}

const root = document.getElementById("app");
if (root) {
  start(root).catch((error: unknown) => {
    root.textContent = "";
    const p = document.createElement("p");
    p.className = "banner banner-error";
    p.setAttribute("role", "alert");
    p.textContent = `The console could not start: ${error instanceof Error ? error.message : String(error)}`;
    root.append(p);
  });
}
