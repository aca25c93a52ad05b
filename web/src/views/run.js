// Pick or upload a hazard scenario, launch a run and follow its progress.
import { api, followRun, isFinished } from "../api.js";
import { h, toast } from "../dom.js";

const canRun = (role, me) => me?.is_admin || role === "analyst" || role === "owner";

export function runPanel({ base, state, region, me, onFinished, onPick, mapIdle = Promise.resolve() }) {
  const scenarioSelect = h("select#scenario-select", { name: "scenario" });
  const samples = h("input#run-samples", { type: "number", min: 1, max: 100000, step: 1, inputmode: "numeric", placeholder: "from the scenario" });
  const seed = h("input#run-seed", { type: "number", min: 0, step: 1, inputmode: "numeric", placeholder: "from the scenario" });
  const runButton = h("button#run-button", { type: "submit" }, "Run");
  const progress = h("progress#run-progress", { max: 1, value: 0, "aria-labelledby": "run-progress-label" });
  const statusText = h("span#run-status", "No run yet.");
  const progressBox = h("div.progress", { "aria-live": "polite" },
    h("span#run-progress-label", "Progress"), progress, statusText);
  const runSelect = h("select#run-select", { name: "run" });
  let follower = null;
  let runs = [];
  const role = state.project.role;
  const analyst = canRun(role, me);

  // --- scenarios ---------------------------------------------------------------
  const scenarioNames = new Map();
  async function loadScenarios(selectId) {
    const list = await api.get(`${base}/scenarios`);
    for (const s of list) scenarioNames.set(s.id, s.name);
    scenarioSelect.replaceChildren(...list.map((s) => h("option", { value: s.id },
      `${s.name} (${s.kind}${s.hazards?.length ? `: ${s.hazards.map((x) => x.hazard ?? x).join(", ")}` : ""})`)));
    if (list.length === 0) scenarioSelect.append(h("option", { value: "", disabled: true }, "No scenarios yet: add one below"));
    if (selectId) scenarioSelect.value = String(selectId);
  }

  const nameInput = h("input#scenario-name", { name: "name", required: true, placeholder: "e.g. malta-quake-small" });
  const tomlInput = h("textarea#scenario-toml", { name: "toml", rows: 10, required: true, spellcheck: false,
    placeholder: '[scenario]\nname = "…"\n\n[[hazards]]\nhazard = "earthquake"\nparameters = { … }' });
  const fileInput = h("input#scenario-file", {
    type: "file", accept: ".toml,text/plain",
    on: {
      change: async () => {
        const file = fileInput.files?.[0];
        if (!file) return;
        tomlInput.value = await file.text();
        if (!nameInput.value) nameInput.value = file.name.replace(/\.toml$/i, "");
      },
    },
  });
  const uploadError = h("p.error#scenario-error", { role: "alert" });
  const uploadForm = h("details.add-scenario", h("summary", "Add a scenario (TOML)"),
    h("form#scenario-form", {
      on: {
        submit: async (e) => {
          e.preventDefault();
          uploadError.textContent = "";
          try {
            const s = await api.post(`${base}/scenarios`, { name: nameInput.value.trim(), toml: tomlInput.value });
            await loadScenarios(s.id);
            toast(`Scenario ${s.name} added.`);
            uploadForm.open = false;
            scenarioSelect.focus();
          } catch (err) {
            uploadError.textContent = err.message;
          }
        },
      },
    },
    h("label", { for: "scenario-name" }, "Name"), nameInput,
    h("label", { for: "scenario-file" }, "Load a .toml file"), fileInput,
    h("label", { for: "scenario-toml" }, "Scenario TOML (the project's region is used)"), tomlInput,
    h("button", { type: "submit" }, "Save scenario"), uploadError));

  // --- runs ----------------------------------------------------------------------
  function describe(run) {
    const pct = Math.round((run.progress ?? 0) * 100);
    const step = run.step ? ` — ${run.step}` : "";
    const msg = run.message && run.status !== "running" ? `: ${run.message}` : "";
    return `${run.status} ${pct}%${step}${msg}`;
  }

  function showProgress(run) {
    progress.value = run.status === "succeeded" ? 1 : (run.progress ?? 0);
    statusText.textContent = describe(run);
    progressBox.dataset.status = run.status;
    progressBox.dataset.runId = String(run.id);
  }

  function runLabel(r) {
    const when = r.created_at ? new Date(r.created_at).toLocaleString() : "";
    const scenario = scenarioNames.get(r.scenario_id) ?? `scenario ${r.scenario_id}`;
    return `#${r.id} ${scenario}, ${when} — ${r.status}`;
  }

  function fillRunSelect(selected) {
    runSelect.replaceChildren(h("option", { value: "" }, runs.length ? "Pick a run…" : "No runs yet"),
      ...runs.map((r) => h("option", { value: r.id }, runLabel(r))));
    if (selected) runSelect.value = String(selected);
  }

  function follow(run) {
    follower?.stop();
    showProgress(run);
    if (isFinished(run)) return Promise.resolve(run);
    runButton.disabled = true;
    follower = followRun(state.project.id, run.id, (r) => { showProgress(r); state.run = r; });
    return follower.done.then(async (r) => {
      runButton.disabled = false;
      showProgress(r);
      runs = await api.get(`${base}/runs`).catch(() => runs);
      fillRunSelect(r.id);
      if (r.status === "succeeded") toast("The run finished.");
      else toast(`The run ${r.status}${r.message ? `: ${r.message}` : ""}`, { error: r.status === "failed" });
      await onFinished(r);
      return r;
    }).catch((err) => {
      runButton.disabled = false;
      toast(err.message, { error: true });
    });
  }

  const runForm = h("form#run-form", {
    on: {
      submit: async (e) => {
        e.preventDefault();
        if (!scenarioSelect.value) { toast("Pick or add a scenario first.", { error: true }); return; }
        const body = { scenario_id: Number(scenarioSelect.value), region_id: region.id };
        if (samples.value) body.samples = Number(samples.value);
        if (seed.value) body.seed = Number(seed.value);
        try {
          runButton.disabled = true;
          const run = await api.post(`${base}/runs`, body);
          runs = [run, ...runs];
          fillRunSelect(run.id);
          await onPick(run);
          await follow(run);
        } catch (err) {
          runButton.disabled = false;
          toast(err.message, { error: true });
        }
      },
    },
  },
  h("label", { for: "scenario-select" }, "Hazard scenario"), scenarioSelect,
  h("div.row2",
    h("div", h("label", { for: "run-samples" }, "Samples"), samples),
    h("div", h("label", { for: "run-seed" }, "Seed"), seed)),
  runButton);

  runSelect.addEventListener("change", async () => {
    const run = runs.find((r) => String(r.id) === runSelect.value);
    if (!run) return;
    const fresh = await api.get(`${base}/runs/${encodeURIComponent(run.id)}`);
    showProgress(fresh);
    await onPick(fresh);
    if (!isFinished(fresh)) follow(fresh);
  });

  const element = h("section.panel#run", { "aria-labelledby": "run-title" },
    h("h2#run-title", "Scenario and run"),
    analyst ? [runForm, uploadForm] : h("p.meta", "Viewers can look at runs; analysts and owners start them."),
    progressBox,
    h("label", { for: "run-select" }, "Earlier runs"), runSelect);

  async function load(runId) {
    [, runs] = await Promise.all([loadScenarios(), api.get(`${base}/runs`)]);
    await mapIdle;
    const wanted = runId ? runs.find((r) => String(r.id) === String(runId)) : runs.find((r) => r.status === "succeeded");
    fillRunSelect(wanted?.id);
    if (wanted) {
      showProgress(wanted);
      await onPick(wanted);
      if (!isFinished(wanted)) follow(wanted);
    }
  }

  return { element, load, stop: () => follower?.stop() };
}
