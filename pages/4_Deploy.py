"""Deploy: package a workflow as a Docker container, build and run it, and look after its containers."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import streamlit as st

from agents_core.deploy.artifacts import slug
from agents_core.deploy.deployment import DeployOptions, deploy
from agents_core.errors import AgentsError
from workbench.deploy_job import DeployJob, latest_job
from workbench.deploy_view import (
    ENV_MODES,
    container_label,
    engine_status,
    env_choice,
    output_folder,
    zip_folder,
)
from workbench.page import current_workspace, markdown_escape, setup_page

LAST_DEPLOYMENT = "deploy_last"
JOB = "deploy_job"
#: The job whose result this session has taken (so it is taken once per session).
COLLECTED = "deploy_collected"
REFRESH_SECONDS = 1.0
#: How long the click waits for its job before the page polls it (a deploy refused at once shows at once).
QUICK_SECONDS = 2.0
ZIP = "deploy_zip"

setup_page("Deploy")
workspace = current_workspace()
st.title("Deploy")

workflows = workspace.workflows()
if not workflows:
    st.info("No workflow in this workspace yet. Write one on the Editor page.")
    st.stop()

engine = engine_status()
if engine.available:
    st.success(engine.message, icon=":material/check_circle:")
else:
    st.warning(
        f"{engine.message} You can still generate the build context and download it as a zip.",
        icon=":material/warning:",
    )

workflow = st.selectbox("Workflow", workflows, key="deploy_workflow")
left, right = st.columns(2)
port = left.number_input("API port", min_value=1, max_value=65535, value=8000, step=1, key="deploy_port")
mlflow_port = right.number_input(
    "MLflow port", min_value=1, max_value=65535, value=5000, step=1, key="deploy_mlflow_port"
)
name = left.text_input("Container name", value=slug(workflow.rsplit("/", 1)[-1].rsplit(".", 1)[0]), key="deploy_name")
timeout = right.number_input("Sync timeout (s)", min_value=0, value=30, step=1, key="deploy_timeout")
enable_mlflow = st.checkbox("MLflow tracking and UI in the container", value=True, key="deploy_mlflow")

st.subheader("Environment variables")
st.caption("Passed to the container when it starts; never written into the image.")
mode = st.radio("Variables", ENV_MODES, horizontal=True, key="deploy_env_mode", label_visibility="collapsed")
uploaded = st.file_uploader("Env file", key="deploy_env_upload") if mode == ENV_MODES[1] else None
pasted = (
    st.text_area("KEY=value, one per line", key="deploy_env_text", placeholder="GOOGLE_API_KEY=...")
    if mode == ENV_MODES[2]
    else ""
)
with st.expander("Advanced"):
    base_image = st.text_input("Base image", value="python:3.11-slim", key="deploy_base_image")
    offline = st.checkbox("Offline build (wheelhouse made here, network off)", key="deploy_offline")
    host_network = st.checkbox("Use the host's network", key="deploy_host_network")
    workers = st.number_input(
        "Celery workers (0: one container)",
        min_value=0,
        max_value=64,
        value=0,
        step=1,
        key="deploy_scale",
        help="N > 0 generates a docker-compose.yml with PostgreSQL, Redis, the API and N workers; "
        "start it with `docker compose up -d --build` in the generated folder.",
    )

try:
    env = env_choice(mode, uploaded.getvalue() if uploaded else None, pasted)
except AgentsError as exc:
    st.error(f"{exc.message} {exc.hint}".strip())
    env = None

options = DeployOptions(
    port=int(port),
    mlflow_port=int(mlflow_port),
    output=output_folder(workspace.root, workflow),
    name=name.strip() or None,
    timeout=int(timeout),
    enable_mlflow=enable_mlflow,
    base_image=base_image.strip() or "python:3.11-slim",
    offline=offline,
    network="host" if host_network else None,
    scale=int(workers),
)
generate_col, deploy_col = st.columns(2)
if generate_col.button("Generate artifacts", key="deploy_generate"):
    try:
        # the build context alone, for download (no wheelhouse: the zip stays small)
        artifacts = deploy(workspace.resolve(workflow), replace(options, generate_only=True, offline=False))
        st.session_state[ZIP] = (f"{artifacts.name}-deployment.zip", zip_folder(artifacts.output_dir))
    except AgentsError as exc:
        st.error(f"{exc.message} {exc.hint}".strip())
if ZIP in st.session_state:
    file_name, data = st.session_state[ZIP]
    generate_col.download_button("Download the build context (zip)", data, file_name, "application/zip")

job: DeployJob | None = st.session_state.get(JOB)
latest = latest_job()
if latest is not None and latest is not job and latest.view().running:
    # a build this workbench runs for another session (another tab, or this page before a reload): follow it
    job = st.session_state[JOB] = latest
busy = bool(job and job.view().running)
clicked = False
if options.scale:
    deploy_col.caption("With workers, generate the artifacts and run `docker compose up -d --build` there.")
else:
    clicked = deploy_col.button(
        "Build and deploy", type="primary", disabled=not engine.available or env is None or busy
    )
if clicked and not busy:  # (a click sent before the button was redrawn disabled starts nothing)
    # the build runs in a thread of its own (its own engine client): touching a widget cannot abandon it
    call = partial(deploy, workspace.resolve(workflow), options, env)
    st.session_state[JOB] = DeployJob.start(
        lambda step, log: call(on_step=step, on_log=log), name=options.name or "deploy"
    )
    st.session_state.pop(LAST_DEPLOYMENT, None)
    st.session_state[JOB].wait(QUICK_SECONDS)  # what ends at once (a refusal) shows without a poll
    st.rerun()  # redraw the button disabled while the job runs


def deploy_progress() -> None:
    """The job's steps and build log, re-read every second while it runs; the whole page reruns at its end."""
    job: DeployJob | None = st.session_state.get(JOB)
    if job is None:
        return
    view = job.view()
    label = {"running": "Deploying...", "done": "Deployed", "failed": "Deploy failed"}[view.state]
    icon = {"running": ":material/progress_activity:", "done": ":material/check_circle:", "failed": ":material/error:"}
    # an expander, not st.status: a status shows "running" only while its own script run lasts
    with st.expander(label, expanded=view.state != "done", icon=icon[view.state]):
        for line in view.steps:
            st.markdown(markdown_escape(line))  # paths and names, not markdown
        if view.log:
            st.caption(f"Build log, last lines of {view.log_lines}")
            st.code(view.log, language=None)
    if view.error:
        st.error(view.error)
    if not view.running and st.session_state.get(COLLECTED) is not job:
        st.session_state[COLLECTED] = job
        if view.result:
            st.session_state[LAST_DEPLOYMENT] = view.result
        st.rerun()  # the whole page: the new container in the list


if job is not None:
    st.fragment(run_every=REFRESH_SECONDS if busy else None)(deploy_progress)()

last = st.session_state.get(LAST_DEPLOYMENT)
if last:
    st.subheader(f"Running: {last['name']}")
    st.markdown("\n".join(f"- {label}: {url}" for label, url in last["endpoints"].items()))
    if last.get("api_key"):
        st.text_input("API key (made up for this container)", value=last["api_key"], disabled=True)
    st.code("\n".join(last["curl"]), language="bash")

if engine.available:
    from agents_core.deploy.docker_engine import list_deployments, remove_deployment, stop_deployment

    st.subheader("Containers")
    try:
        containers = list_deployments(engine.client)
    except AgentsError as exc:
        st.error(f"{exc.message} {exc.hint}".strip())
        containers = []
    if not containers:
        st.caption("No deployment containers.")
    for info in containers:
        text_col, stop_col, rm_col = st.columns([6, 1, 1])
        text_col.markdown(container_label(info, markdown_escape))
        try:
            if stop_col.button("Stop", key=f"stop_{info.name}", disabled=info.status != "running"):
                stop_deployment(engine.client, info.name)
                st.rerun()
            if rm_col.button("Remove", key=f"rm_{info.name}"):
                remove_deployment(engine.client, info.name, force=True)
                st.rerun()
        except AgentsError as exc:
            st.error(f"{exc.message} {exc.hint}".strip())
