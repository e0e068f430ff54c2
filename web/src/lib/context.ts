// What every page needs: the API client and who is signed in.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api } from "./api.ts";
import type { Me } from "./types.ts";

export interface AppContext {
  api: Api;
  me: Me;
  /** Shows a short message in the page's live region (announced by screen readers). */
  notify: (message: string) => void;
}

export const App = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const value = useContext(App);
  if (!value) throw new Error("useApp outside the signed-in app");
  return value;
}

/** Viewers read; only operators see the buttons that change things. */
export function useCanChange(): boolean {
  return useApp().me.role === "operator";
}
