// Local mode's page at `/` when the console has not been built (web/build missing): where the
// console comes from and where the API is. Static on purpose: it is served under the console's
// CSP, which allows no inline script.
export function homePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MongoDB backup manager (local mode)</title>
</head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem">
<h1>MongoDB backup manager</h1>
<p>Local mode is running, but the web console is not built. Build it with <code>npm run build:web</code>
(<code>npm start</code> does this), then reload.</p>
<p>The API works without it, under <code>/api</code>: its OpenAPI document is
<a href="/api/openapi.json">/api/openapi.json</a>. Send the token that <code>npm start</code> printed as
<code>Authorization: Bearer &lt;token&gt;</code>.</p>
</body>
</html>
`;
}
