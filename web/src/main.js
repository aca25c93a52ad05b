// cascada dashboard: log in, pick a project, look at its region, run a
// scenario, watch the cascade hour by hour, read risk results, download.
import "./style.css";
import { ApiError, api, currentUser, login, logout } from "./api.js";
import { h, toast } from "./dom.js";
import { projectView } from "./views/project.js";

const main = document.getElementById("main");
const crumbs = document.getElementById("crumbs");
const userBox = document.getElementById("user");
let me = null;
let teardown = null;

// Tests and benchmarks read the live map and state from here.
window.cascada = { ready: false };

function setCrumbs(...items) {
  crumbs.replaceChildren(...items.map((it, i) => {
    const last = i === items.length - 1;
    return it.href && !last ? h("a", { href: it.href }, it.label) : h("span", { "aria-current": last ? "page" : undefined }, it.label);
  }));
}

function showUser() {
  userBox.replaceChildren();
  if (!me) return;
  userBox.append(
    h("span", `${me.username}${me.is_admin ? " (admin)" : ""}`),
    h("button.link", { type: "button", on: { click: async () => { await logout(); me = null; location.hash = "#/login"; } } }, "Log out"),
  );
}

function focusMain() {
  main.focus({ preventScroll: true });
}

function loginView(next) {
  setCrumbs({ label: "Log in" });
  const error = h("p.error", { role: "alert", id: "login-error" });
  const user = h("input#login-username", { name: "username", autocomplete: "username", required: true });
  const pass = h("input#login-password", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form.card.login", {
    "aria-labelledby": "login-title",
    on: {
      submit: async (e) => {
        e.preventDefault();
        error.textContent = "";
        try {
          me = await login(user.value, pass.value);
          me = (await currentUser()) ?? me;
          showUser();
          location.hash = next && next !== "#/login" ? next : "#/";
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 401 ? "Wrong user name or password." : err.message;
          pass.select();
        }
      },
    },
  },
  h("h1#login-title", "Log in to cascada"),
  h("label", { for: "login-username" }, "User name"), user,
  h("label", { for: "login-password" }, "Password"), pass,
  h("button#login-submit", { type: "submit" }, "Log in"),
  error);
  main.replaceChildren(form);
  user.focus();
}

async function projectsView() {
  setCrumbs({ label: "Projects" });
  const list = h("ul.project-list#projects");
  main.replaceChildren(h("section.card", { "aria-labelledby": "projects-title" }, h("h1#projects-title", "Projects"), list));
  const projects = await api.get("/projects");
  if (projects.length === 0) {
    list.append(h("li", "You are not a member of any project yet. An administrator can add you (cascada users …)."));
  }
  for (const p of projects) {
    list.append(h("li", h("a", { href: `#/projects/${encodeURIComponent(p.id)}` }, p.name), h("span.role", p.role)));
  }
  focusMain();
}

async function route() {
  teardown?.();
  teardown = null;
  window.cascada = { ready: false };
  const hash = location.hash || "#/";
  if (!me && hash !== "#/login") {
    me = await currentUser();
    showUser();
    if (!me) {
      loginView(hash);
      return;
    }
  }
  if (hash === "#/login") {
    loginView("#/");
    return;
  }
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "projects" && parts[1]) {
      setCrumbs({ label: "Projects", href: "#/" }, { label: parts[1] });
      teardown = await projectView(main, { projectId: parts[1], runId: parts[2] === "runs" ? parts[3] : null, me, setCrumbs });
    } else {
      await projectsView();
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      me = null;
      showUser();
      loginView(hash);
      return;
    }
    main.replaceChildren(h("section.card", h("h1", "Something went wrong"), h("p.error", { role: "alert" }, err.message)));
    toast(err.message, { error: true });
  }
}

window.addEventListener("hashchange", route);
route();
