// Local mode's home page until the web console exists (issue 6): where the API is and how to call
// it. The token arrives in the URL fragment (never sent to a server); the page moves it to session
// storage, clears it from the address bar, and lists the API's routes from the OpenAPI document.
export function homePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MongoDB backup manager (local mode)</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
code, pre { background: #f2f2f2; padding: 0.1rem 0.3rem; border-radius: 3px; }
pre { padding: 0.75rem; overflow-x: auto; }
li { font-family: ui-monospace, monospace; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>MongoDB backup manager</h1>
<p>Local mode is running. The web console arrives in a later release; meanwhile everything works through the
HTTPS API under <code>/api</code>. Its OpenAPI document is <a href="/api/openapi.json">/api/openapi.json</a>
(send the token as <code>Authorization: Bearer &lt;token&gt;</code>).</p>
<pre>curl -H "Authorization: Bearer $API_TOKEN" http://127.0.0.1:8090/api/servers</pre>
<h2>Routes</h2>
<p id="status">Open the URL that <code>npm start</code> printed (it carries the token) to list the routes here.</p>
<ul id="routes"></ul>
<script>
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) {
  sessionStorage.setItem("mbm-token", fragment.get("token"));
  history.replaceState(null, "", location.pathname);
}
document.querySelector("pre").textContent = 'curl -H "Authorization: Bearer $API_TOKEN" ' + location.origin + "/api/servers";
const token = sessionStorage.getItem("mbm-token");
if (token) {
  fetch("/api/openapi.json", { headers: { authorization: "Bearer " + token } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("the API answered " + r.status))))
    .then((doc) => {
      document.getElementById("status").textContent = "Signed in. The API's routes:";
      const list = document.getElementById("routes");
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          const li = document.createElement("li");
          li.textContent = method.toUpperCase() + " " + path + " - " + (op.summary || "");
          list.append(li);
        }
      }
    })
    .catch((e) => { document.getElementById("status").textContent = "Could not read the API: " + e.message; });
}
</script>
</body>
</html>
`;
}
