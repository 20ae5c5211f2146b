/** The explorer dashboard: hash routes for overview, nodes, a node, a farm, a twin's contracts. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { FarmPage } from "./pages/farm.tsx";
import { NodePage } from "./pages/node.tsx";
import { NodesPage } from "./pages/nodes.tsx";
import { Overview } from "./pages/overview.tsx";
import { TwinPage } from "./pages/twin.tsx";
import "./style.css";

function useHash(): string {
  const [hash, setHash] = useState(location.hash.slice(1) || "/");
  useEffect(() => {
    const on = () => setHash(location.hash.slice(1) || "/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function ThemeToggle() {
  const [theme, setTheme] = useState(() => localStorage.getItem("theme") ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
  useEffect(() => { document.documentElement.dataset.theme = theme; localStorage.setItem("theme", theme); }, [theme]);
  return <button type="button" class="theme" aria-label={`switch to ${theme === "dark" ? "light" : "dark"} theme`} onClick={() => setTheme(theme === "dark" ? "light" : "dark")}>{theme === "dark" ? "☀ light" : "☾ dark"}</button>;
}

function App() {
  const hash = useHash();
  const [path, query = ""] = hash.split("?");
  let page;
  let m;
  if ((m = path!.match(/^\/nodes\/(\d+)$/))) page = <NodePage id={Number(m[1])} />;
  else if (path!.startsWith("/nodes")) page = <NodesPage query={query} />;
  else if ((m = path!.match(/^\/farms\/(\d+)$/))) page = <FarmPage id={Number(m[1])} />;
  else if ((m = path!.match(/^\/twins\/(\d+)$/))) page = <TwinPage id={Number(m[1])} />;
  else page = <Overview />;
  const link = (href: string, label: string) => <a href={`#${href}`} aria-current={(href === "/" ? path === "/" : path!.startsWith(href)) ? "page" : undefined}>{label}</a>;
  return (
    <>
      <header>
        <a class="brand" href="#/">zgrid explorer</a>
        <nav aria-label="main">{link("/", "Overview")}{link("/nodes", "Nodes")}</nav>
        <form class="jump" onSubmit={(e) => { e.preventDefault(); const v = (e.currentTarget.elements.namedItem("twin") as HTMLInputElement).value; if (/^\d+$/.test(v)) location.hash = `/twins/${v}`; }}>
          <label for="twin-jump">Twin</label>
          <input id="twin-jump" name="twin" inputMode="numeric" placeholder="id" size={5} />
          <button type="submit">Contracts</button>
        </form>
        <ThemeToggle />
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
