// The signed-in shell: navigation, who is signed in, and the pages. Routes are paths (/backups);
// local mode and CloudFront both answer unknown paths with index.html.

import { useEffect, useRef, useState } from "preact/hooks";
import { LocationProvider, Route, Router, useLocation } from "preact-iso";
import { PageHeader } from "./components/ui.tsx";
import { Api, ApiError, messageOf } from "./lib/api.ts";
import type { Session } from "./lib/auth.ts";
import { type AppContext, App as AppContextProvider } from "./lib/context.ts";
import type { Me } from "./lib/types.ts";
import { BackupDetailPage } from "./pages/backup-detail.tsx";
import { BackupsPage } from "./pages/backups.tsx";
import { DashboardPage } from "./pages/dashboard.tsx";
import { HelpPage } from "./pages/help.tsx";
import { RestorePage } from "./pages/restore.tsx";
import { SchedulesPage } from "./pages/schedules.tsx";
import { SettingsPage } from "./pages/settings.tsx";
import { SignInPage } from "./pages/sign-in.tsx";

const NAV = [
  ["/", "Dashboard"],
  ["/backups", "Backups"],
  ["/schedules", "Schedules"],
  ["/restore", "Restore"],
  ["/settings", "Settings"],
  ["/help", "Help"],
] as const;

/** A section's own pages (/backups/<id>) keep it current in the menu. */
const isCurrent = (path: string, href: string) =>
  path === href || (href !== "/" && path.startsWith(`${href}/`));

function Navigation({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [path]);
  return (
    <header class="topbar">
      <a class="brand" href="/">
        MongoDB backups
      </a>
      <button
        type="button"
        class="menu-toggle"
        aria-expanded={open}
        aria-controls="main-nav"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <nav id="main-nav" class={open ? "open" : ""} aria-label="Main">
        <ul>
          {NAV.map(([href, label]) => (
            <li key={href}>
              <a href={href} aria-current={isCurrent(path, href) ? "page" : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <span title={`role: ${me.role}`}>
          {me.id} <span class="role">({me.role})</span>
        </span>
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

/** Moves focus to the new page's heading on navigation, so keyboard and screen-reader users follow. */
function FocusOnNavigate() {
  const { path } = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("page-title")?.focus();
  }, [path]);
  return null;
}

function NotFound() {
  return (
    <section>
      <PageHeader title="Not found" />
      <p>
        There is no page here. <a href="/">Go to the dashboard</a>.
      </p>
    </section>
  );
}

export function Console({ session, apiUrl }: { session: Session; apiUrl: string }) {
  const [me, setMe] = useState<Me | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(true);
  const [message, setMessage] = useState("");
  const [api] = useState(
    () =>
      new Api(apiUrl, session, () => {
        setMe(null);
        setProblem("Your sign-in has expired or was refused. Sign in again.");
      }),
  );

  const check = async () => {
    setChecking(true);
    try {
      if (!(await session.token())) {
        setMe(null);
        return;
      }
      setMe(await api.get("/api/me"));
      setProblem(null);
    } catch (error) {
      setMe(null);
      if (!(error instanceof ApiError && error.status === 401)) setProblem(messageOf(error));
    } finally {
      setChecking(false);
    }
  };
  useEffect(() => {
    void check();
  }, []);

  if (checking && !me) return <p class="muted center">Signing in…</p>;
  if (!me) return <SignInPage session={session} problem={problem} onSignedIn={check} />;

  const context: AppContext = { api, me, notify: setMessage };
  const signOut = async () => {
    await session.signOut();
    setMe(null);
    setProblem(null);
  };
  return (
    <AppContextProvider.Provider value={context}>
      <LocationProvider>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <Navigation me={me} onSignOut={signOut} />
        <FocusOnNavigate />
        <main id="main">
          <Router>
            <Route path="/" component={DashboardPage} />
            <Route path="/backups" component={BackupsPage} />
            <Route path="/backups/:id" component={BackupDetailPage} />
            <Route path="/schedules" component={SchedulesPage} />
            <Route path="/restore" component={RestorePage} />
            <Route path="/settings" component={SettingsPage} />
            <Route path="/help" component={HelpPage} />
            <Route default component={NotFound} />
          </Router>
        </main>
        <div class="sr-only" role="status" aria-live="polite">
          {message}
        </div>
      </LocationProvider>
    </AppContextProvider.Provider>
  );
}
