// Scrub through the hours after the event: assets coloured by P(down) at hour
// h, and a chart of people without each service with a marker at h.
import { api } from "../api.js";
import { serviceChart } from "../charts.js";
import { h, number } from "../dom.js";

export function timelinePanel({ state, view, onReady }) {
  const slider = h("input#hour-slider", { type: "range", min: 0, max: 0, step: 1, value: 0, disabled: true,
    "aria-describedby": "hour-label" });
  const hourLabel = h("output#hour-label", { for: "hour-slider" }, "hour 0");
  const playButton = h("button#play-button", { type: "button", disabled: true, "aria-pressed": "false" }, "Play");
  const summary = h("p.meta#timeline-summary", "Finish or pick a scenario run to watch the cascade.");
  const chartBox = h("div.chart#service-chart");
  const element = h("section.panel.wide#timeline", { "aria-labelledby": "timeline-title" },
    h("h2#timeline-title", "Cascade over time"), summary,
    h("div.slider-row", h("label", { for: "hour-slider" }, "Hour after the event"), slider, hourLabel, playButton),
    chartBox);
  let chart = null;
  let timer = null;

  // Arrays run over hours 0..H-1.
  function lastHour() {
    return Math.max(0, (state.timeline?.hours ?? 1) - 1);
  }

  function downAt(hour) {
    const t = state.timeline;
    let n = 0;
    for (const row of t.p_down) if ((row[hour] ?? 0) > 0) n += 1;
    return n;
  }

  function applyHour() {
    const t = state.timeline;
    if (!t) return;
    const hour = state.hour;
    const states = new Map();
    if (view.colourMode() === "state") {
      t.asset_ids.forEach((id, i) => {
        const p = t.p_down[i][hour] ?? 0;
        if (p > 0) states.set(id, { p_down: p });
      });
      view.setAssetStates(states);
    }
    chart?.setHour(hour);
    const people = Object.entries(t.services ?? {}).map(([s, v]) => `${s} ${number.format(v.people_without_mean?.[hour] ?? 0)}`);
    hourLabel.textContent = `hour ${hour}: ${number.format(downAt(hour))} assets may be down`;
    slider.setAttribute("aria-valuetext", `hour ${hour}; people without service: ${people.join(", ") || "none"}`);
    element.dataset.hour = String(hour);
  }

  function setHour(hour) {
    state.hour = Math.max(0, Math.min(Number(hour), lastHour()));
    slider.value = String(state.hour);
    applyHour();
  }

  slider.addEventListener("input", () => setHour(slider.value));

  function stop() {
    clearInterval(timer);
    timer = null;
    playButton.textContent = "Play";
    playButton.setAttribute("aria-pressed", "false");
  }
  playButton.addEventListener("click", () => {
    if (timer) return stop();
    if (state.hour >= lastHour()) setHour(0);
    playButton.textContent = "Pause";
    playButton.setAttribute("aria-pressed", "true");
    timer = setInterval(() => {
      if (state.hour >= lastHour()) return stop();
      setHour(state.hour + 1);
    }, 250);
  });

  async function load(runBase) {
    const t = await api.get(`${runBase}/timeline`);
    state.timeline = t;
    state.timelineIndex = new Map(t.asset_ids.map((id, i) => [id, i]));
    slider.max = String(lastHour());
    slider.disabled = false;
    playButton.disabled = false;
    summary.textContent = `${number.format(t.asset_ids.length)} assets go down in at least one of ${number.format(t.samples)} samples` +
      ` over ${t.hours} hours; ${number.format(t.population_total ?? 0)} people in the region. Use the arrow keys on the slider.`;
    chart?.destroy();
    chart = serviceChart(chartBox, t);
    onReady?.();
    setHour(0);
  }

  function clear() {
    stop();
    chart?.destroy();
    chart = null;
    chartBox.replaceChildren();
    state.timeline = null;
    state.timelineIndex = null;
    state.hour = 0;
    slider.value = "0";
    slider.max = "0";
    slider.disabled = true;
    playButton.disabled = true;
    hourLabel.textContent = "hour 0";
    summary.textContent = "Finish or pick a scenario run to watch the cascade.";
  }

  return { element, load, clear, applyHour, setHour, stop };
}
