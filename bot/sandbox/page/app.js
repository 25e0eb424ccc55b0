// The sandbox page: polls /state, and sends clicks, modal submissions and slash commands to the
// sandbox, which signs them and POSTs them to the bot as Slack would. The server renders every piece
// of message HTML (escaped); this script only sets textContent for anything it shows itself.
"use strict";
const state = {
  user: localStorage.getItem("demo-user") || document.querySelector("#user option").value,
  place: localStorage.getItem("demo-place") || document.querySelector("[data-place]").dataset.place,
  lastMain: null,
  modalId: "",
  lastModal: "",
};
const main = document.getElementById("main");
const modal = document.getElementById("modal");
const confirmDialog = document.getElementById("confirm");
const notice = document.getElementById("notice");

async function post(path, body) {
  const answer = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify(Object.assign({user: state.user}, body)),
  });
  const decoded = await answer.json().catch(() => ({}));
  notice.textContent = answer.ok ? "" : (decoded.error || "the sandbox answered " + answer.status);
  refreshSoon();
  return decoded;
}

async function refresh() {
  const query = new URLSearchParams({user: state.user, place: state.place});
  let decoded;
  try {
    decoded = await (await fetch("/state?" + query)).json();
  } catch (error) {
    notice.textContent = "The demo is not answering (stopped?).";
    return;
  }
  if (decoded.main !== undefined && decoded.main !== state.lastMain) {
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    const ticked = new Set([...main.querySelectorAll(".checkboxes input:checked")].map((box) => box.value));
    main.innerHTML = decoded.main;
    main.querySelectorAll(".checkboxes input").forEach((box) => { box.checked = ticked.has(box.value); });
    state.lastMain = decoded.main;
    if (atBottom && state.place !== "home") window.scrollTo(0, document.body.scrollHeight);
  }
  // A new modal, or the same one updated (views.update keeps its id: the Details window fills in).
  if (decoded.modal_id !== state.modalId || (state.modalId && decoded.modal !== state.lastModal)) {
    state.modalId = decoded.modal_id || "";
    state.lastModal = decoded.modal || "";
    if (state.modalId) {
      modal.innerHTML = decoded.modal;
      if (!modal.open) modal.showModal();
    } else if (modal.open) {
      modal.close();
    }
  }
}

let timer = null;
function refreshSoon() {
  clearTimeout(timer);
  timer = setTimeout(loop, 150);
}
async function loop() {
  clearTimeout(timer);
  await refresh();
  timer = setTimeout(loop, 1000);
}

function showPlace(place) {
  state.place = place;
  localStorage.setItem("demo-place", place);
  document.querySelectorAll("[data-place]").forEach((link) => {
    link.classList.toggle("current", link.dataset.place === place);
  });
  const link = document.querySelector(`[data-place="${CSS.escape(place)}"]`);
  document.getElementById("place-title").textContent = link ? link.textContent : place;
  document.getElementById("composer").hidden = place === "home";
  state.lastMain = null;
  main.textContent = "";
  if (place === "home") post("/act/home", {});
  refreshSoon();
}

function askFirst(confirmation) {
  return new Promise((resolve) => {
    for (const name of ["title", "text", "confirm", "deny"]) {
      confirmDialog.querySelector(`[data-field="${name}"]`).textContent = confirmation[name];
    }
    confirmDialog.querySelector('[data-field="confirm"]').onclick = () => { confirmDialog.close(); resolve(true); };
    confirmDialog.querySelector('[data-field="deny"]').onclick = () => { confirmDialog.close(); resolve(false); };
    confirmDialog.oncancel = () => resolve(false);  // Escape
    confirmDialog.showModal();
  });
}

// The Home's ticked checkboxes as Slack sends them with a click: view.state.values.
function tickedBoxes(holder) {
  const values = {};
  holder.querySelectorAll(".checkboxes[data-checkboxes-id]").forEach((group) => {
    const ticked = [...group.querySelectorAll("input[type=checkbox]:checked")].map((box) => ({value: box.value}));
    values[group.dataset.blockId] = {
      [group.dataset.checkboxesId]: {type: "checkboxes", selected_options: ticked},
    };
  });
  return values;
}

document.addEventListener("click", async (event) => {
  const place = event.target.closest("[data-place]");
  if (place) {
    event.preventDefault();
    showPlace(place.dataset.place);
    return;
  }
  const button = event.target.closest("button[data-action-id]");
  if (!button) return;
  if (button.dataset.confirm && !(await askFirst(JSON.parse(button.dataset.confirm)))) return;
  const inModal = modal.contains(button);  // a button in a modal: Slack sends the view, no message
  const holder = inModal ? null : button.closest("[data-ts], [data-ephemeral], .home");
  const click = {
    place: inModal ? "modal" : state.place,
    action_id: button.dataset.actionId,
    block_id: button.dataset.blockId,
    value: button.dataset.value,
  };
  if (inModal) click.view_id = state.modalId;
  if (holder && holder.dataset.channel) click.channel = holder.dataset.channel;
  if (holder && holder.dataset.ts) click.ts = holder.dataset.ts;
  if (holder && holder.dataset.ephemeral) click.ephemeral = Number(holder.dataset.ephemeral);
  if (holder && holder.classList.contains("home")) click.state = tickedBoxes(holder);
  button.disabled = true;
  await post("/act/click", click);
  button.disabled = false;  // the card is redrawn when the bot changes it
});

modal.addEventListener("click", (event) => {
  if (event.target.closest("[data-close]")) {
    post("/act/close", {view_id: state.modalId});
    modal.close();
  }
});
modal.addEventListener("cancel", () => post("/act/close", {view_id: state.modalId}));
modal.addEventListener("submit", async (event) => {
  event.preventDefault();
  const values = {};
  modal.querySelectorAll("[data-action-id][name]").forEach((field) => {
    values[field.name] = {action_id: field.dataset.actionId, type: field.dataset.elementType, value: field.value};
  });
  const answer = await post("/act/submit", {view_id: state.modalId, values: values});
  modal.querySelectorAll(".input .error").forEach((error) => { error.hidden = true; });
  for (const [blockId, message] of Object.entries(answer.errors || {})) {
    const label = modal.querySelector(`.input[data-block-id="${CSS.escape(blockId)}"] .error`);
    if (label) { label.textContent = message; label.hidden = false; }
  }
});

document.getElementById("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("command");
  if (!input.value.trim()) return;
  await post("/act/command", {channel: state.place, text: input.value});
  input.value = "";
});

const userSelect = document.getElementById("user");
userSelect.value = state.user;
userSelect.addEventListener("change", () => {
  state.user = userSelect.value;
  localStorage.setItem("demo-user", state.user);
  showPlace(state.place);
});
showPlace(state.place);
loop();
