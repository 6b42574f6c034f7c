"""The container image, built and run with podman: it serves summaries and PDF key points as a non-root user from
a volume, stops within its grace on SIGTERM with nothing lost, and holds no secret, key or certificate of the
build. Run by `python3 manage.py test-container` (which .ci/run calls after the suite); skipped without podman."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import soundfile

from tests.conftest import ROOT, SAMPLE_TEXT, free_port, wait_for_health

pytestmark = [pytest.mark.container, pytest.mark.timeout(1200)]  # the first test builds the image

IMAGE = "localhost/docservice:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # this machine's, given to the build as the secret `ca`
LOCAL_CAS = Path("/usr/local/share/ca-certificates")  # certificates this machine added (its TLS proxy's)
BUILD_TIMEOUT_S = 12 * 60
GRACE_S = 5


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Run podman; its output comes back as text (and with its error, when it fails and check is set)."""
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({done.returncode}): {done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def image():
    """The image, built from the Containerfile as the README says (and removed at the end)."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (these machines set it up with ../shared/tools/container-env.sh; "
                    "python3 manage.py test-container runs it when it is there)")
    command = ["build", "--format", "docker", "--network=host", "-f", "Containerfile", "-t", IMAGE]
    if CA_BUNDLE.is_file():
        command += ["--secret", f"id=ca,src={CA_BUNDLE}"]
    started = time.monotonic()
    built = subprocess.run(["podman", *command, "."], cwd=ROOT, capture_output=True, text=True,
                           timeout=BUILD_TIMEOUT_S)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    size_mb = int(podman("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout) / 1e6
    print(f"image built in {time.monotonic() - started:.0f} s, {size_mb:.0f} MB")  # noqa: T201 - the CI log keeps it
    yield IMAGE
    podman("rmi", "-f", IMAGE, check=False)


@pytest.fixture
def volume():
    """A named volume for DATA_DIR (it starts owned by the image's user, as `docker run -v name:/data` does)."""
    name = f"docservice-test-{os.getpid()}"
    podman("volume", "create", name)
    yield name
    podman("volume", "rm", "-f", name, check=False)


class Container:
    """A container of the image on the host's network, on a free port."""

    def __init__(self, image: str, volume: str, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = f"docservice-test-{self.port}"
        settings = {"PORT": str(self.port), "SHUTDOWN_GRACE_S": str(GRACE_S), **env}
        podman("run", "-d", "--name", self.name, "--network=host", "-v", f"{volume}:/data",
               *[arg for key, value in settings.items() for arg in ("-e", f"{key}={value}")], image)

    def wait_until_healthy(self, timeout: float = 120) -> None:
        if wait_for_health(self.url, timeout) is None:
            raise AssertionError("the container never became healthy:\n" + self.logs())

    def logs(self) -> str:
        return podman("logs", self.name, check=False).stdout[-4000:]

    def remove(self) -> None:
        podman("rm", "-f", "--time", "0", self.name, check=False)


@pytest.fixture
def container(image, volume):
    made = []

    def start(**env: str) -> Container:
        started = Container(image, volume, **env)
        made.append(started)
        return started

    yield start
    for started in made:
        started.remove()


def test_the_image_declares_its_user_health_check_and_volume(image):
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "docservice"
    health_check = inspected.get("Healthcheck") or config.get("Healthcheck")  # podman / docker put it apart
    assert "/health" in " ".join(health_check["Test"])
    assert "/data" in config["Volumes"]
    assert (config["Entrypoint"], config["Cmd"]) == (["gunicorn", "-c", "gunicorn.conf.py"], ["api:create_app()"])
    assert not [variable for variable in config["Env"] if re.match(r"(PIP_CERT|API_KEY|HF_TOKEN)=", variable)]


def _local_certificates() -> list[str]:
    """The base64 body of each certificate this machine added to its trust store (the build's secret carries them)."""
    bodies = []
    for path in sorted(LOCAL_CAS.glob("*.crt")) if LOCAL_CAS.is_dir() else []:
        bodies += re.findall(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----",
                             path.read_text(errors="replace"), flags=re.DOTALL)
    return ["".join(body.split())[64:192] for body in bodies]  # a stretch no other certificate shares


_SCAN = r"""
import hashlib, json, os, re, sys
# A PEM private key with its content (libraries that parse keys only name the marker).
private_key = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]{64,}-----END")
needles = [needle.encode() for needle in json.loads(os.environ["NEEDLES"])]
bundle_digest = os.environ["BUNDLE_DIGEST"]
found = []
for top, dirs, files in os.walk("/"):
    if top in ("/proc", "/sys", "/dev", "/run"):
        dirs[:] = []
        continue
    for name in files:
        path = os.path.join(top, name)
        try:
            if os.path.islink(path) or os.path.getsize(path) > 8_000_000:
                continue
            data = open(path, "rb").read()
        except OSError:
            continue
        flat = data.replace(b"\n", b"").replace(b"\r", b"")
        # Keys compiled into a library are its self-test vectors (GnuTLS has some); a leaked key is a file.
        if not data.startswith(b"\x7fELF") and private_key.search(data):
            found.append(("private key", path))
        if bundle_digest and hashlib.sha256(data).hexdigest() == bundle_digest:
            found.append(("the build's CA bundle", path))
        found += [("a certificate of the build's secret", path) for needle in needles if needle in flat]
print(json.dumps(found))
"""


def _scan(image: str, *mounts: str) -> list[list[str]]:
    """What the scan finds in a container of the image: private keys, the build's CA bundle, its local certificates."""
    digest = hashlib.sha256(CA_BUNDLE.read_bytes()).hexdigest() if CA_BUNDLE.is_file() else ""
    volumes = [arg for mount in mounts for arg in ("-v", mount)]
    scan = podman("run", "--rm", "--user", "root", *volumes, "-e", f"NEEDLES={json.dumps(_local_certificates())}",
                  "-e", f"BUNDLE_DIGEST={digest}", "--entrypoint", "python3", image, "-c", _SCAN, timeout=300)
    return json.loads(scan.stdout)


def test_no_secret_key_or_certificate_of_the_build_is_in_the_image(image):
    assert _scan(image) == []
    history = podman("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    assert "BEGIN CERTIFICATE" not in history and base64.b64encode(b"-----BEGIN").decode() not in history
    if CA_BUNDLE.is_file():  # and the scan does see the secret where it is
        planted = _scan(image, f"{CA_BUNDLE}:/opt/planted/ca.crt:ro")
        assert ["the build's CA bundle", "/opt/planted/ca.crt"] in planted
        assert len(planted) == 1 + len(_local_certificates())


def test_it_serves_stops_within_its_grace_and_resumes_from_its_volume(container):
    key = "container-test-key"
    first = container(API_KEY=f"ops:{key}")  # a named key: its library follows the name
    first.wait_until_healthy()
    headers = {"X-API-Key": key}
    assert podman("healthcheck", "run", first.name, check=False).returncode == 0  # the image's own check passes
    assert requests.get(first.url + "/jobs", timeout=10).status_code == 401  # the key is asked for

    summary = requests.post(first.url + "/generate-summary", json={"text": SAMPLE_TEXT, "length": "short"},
                            headers=headers, timeout=120)
    assert summary.status_code == 200, summary.text
    assert summary.json()["summary"]
    with open(ROOT / "samples" / "lighthouses.pdf", "rb") as pdf:
        points = requests.post(first.url + "/generate-points", files={"file": ("lighthouses.pdf", pdf)},
                               data={"count": "3", "pages": "1-2"}, headers=headers, timeout=120)
    assert points.status_code == 200, points.text
    assert points.json()["pages"] == 2 and points.json()["points"]
    assert all(set(point["pages"]) <= {1, 2} for point in points.json()["points"])
    audio = requests.post(first.url + "/generate-audio", json={"text": SAMPLE_TEXT[:300]}, headers=headers,
                          timeout=120)  # the image's own speech engine
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/mpeg", audio.text[:300]
    with soundfile.SoundFile(io.BytesIO(audio.content)) as sound:
        assert sound.frames / sound.samplerate > 5

    status = podman("exec", first.name, "grep", "^Uid:", "/proc/1/status").stdout.split()
    assert status[1] != "0", "the server runs as root"

    # A job still at work when SIGTERM comes goes back in the queue on the volume, and the next start finishes it.
    long_text = "\n\n".join(SAMPLE_TEXT.replace("lighthouse", f"lighthouse {n}") for n in range(4))
    job = requests.post(first.url + "/generate-summary?async=true", json={"text": long_text, "length": "long"},
                        headers=headers, timeout=30).json()
    stopped_at = time.monotonic()
    podman("stop", "--time", "60", first.name, timeout=90)
    stop_seconds = time.monotonic() - stopped_at
    assert stop_seconds < GRACE_S + 10, f"stopping took {stop_seconds:.1f} s:\n{first.logs()}"
    assert podman("inspect", first.name, "--format", "{{.State.ExitCode}}").stdout.strip() == "0"
    assert "Traceback" not in first.logs()

    podman("start", first.name)
    first.wait_until_healthy()
    answer = requests.get(f"{first.url}/jobs/{job['job_id']}?wait=60", headers=headers, timeout=90)
    assert answer.status_code == 200
    assert answer.json()["status"] in ("queued", "running", "succeeded")
    deadline = time.monotonic() + 240
    while answer.json()["status"] != "succeeded" and time.monotonic() < deadline:
        answer = requests.get(f"{first.url}/jobs/{job['job_id']}?wait=60", headers=headers, timeout=90)
    assert answer.json()["status"] == "succeeded", answer.json()
    assert answer.json()["result"]["summary"]


POSTGRES_IMAGE = "localhost/docservice-postgres:test"
KUBE_MANIFEST = ROOT / "deploy" / "kubernetes.yaml"


@pytest.fixture(scope="module")
def postgres_image():
    """The example deployment's PostgreSQL image (deploy/postgres), built as its Containerfile says."""
    built = subprocess.run(["podman", "build", "--format", "docker", "--network=host", "-f",
                            "deploy/postgres/Containerfile", "-t", POSTGRES_IMAGE, "deploy/postgres"], cwd=ROOT,
                           capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    yield POSTGRES_IMAGE
    podman("rmi", "-f", POSTGRES_IMAGE, check=False)


class KubeDeployment:
    """deploy/kubernetes.yaml played by podman on a network of its own (pods find each other by name there, as
    Services make them found on a cluster); the images are this test's builds."""

    def __init__(self, manifest: Path, image: str, postgres_image: str, folder: Path):
        self.network = f"docservice-kube-{os.getpid()}"
        self.volume = f"docservice-kube-test-{os.getpid()}"  # never the name a real deployment's volume has
        self.manifest = folder / "kubernetes.yaml"
        self.manifest.write_text(manifest.read_text().replace("localhost/docservice:latest", image)
                                 .replace("localhost/docservice-postgres:latest", postgres_image)
                                 .replace("claimName: docservice-postgres-data", f"claimName: {self.volume}")
                                 .replace("name: docservice-postgres-data", f"name: {self.volume}"))

    def play(self) -> None:
        podman("network", "create", self.network)
        podman("kube", "play", "--network", self.network, str(self.manifest), timeout=300)

    def address(self, container: str) -> str:
        ip = podman("inspect", container, "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
        return f"http://{ip.stdout.strip()}:5000"

    @staticmethod
    def health(url: str) -> dict | None:
        """A pod's /health once it answers 200 (a pod still starting may accept and not answer yet)."""
        try:
            response = requests.get(f"{url}/health", timeout=5)
        except requests.RequestException:
            return None
        return response.json() if response.status_code == 200 else None

    def sql(self, query: str) -> str:
        return podman("exec", "postgres-postgres", "psql", "-h", "/var/run/postgresql", "-U", "docservice", "-d",
                      "docservice", "-tAc", query).stdout.strip()

    def logs(self, container: str) -> str:
        return podman("logs", container, check=False).stderr[-3000:]

    def remove(self) -> None:
        podman("kube", "down", str(self.manifest), timeout=180, check=False)
        podman("volume", "rm", "-f", self.volume, check=False)
        podman("network", "rm", "-f", self.network, check=False)


def test_the_kubernetes_example_survives_a_worker_pod_killed_mid_job(image, postgres_image, tmp_path):
    deployment = KubeDeployment(KUBE_MANIFEST, image, postgres_image, tmp_path)
    try:
        deployment.play()
        apis = [deployment.address(f"docservice-api-pod-{number}-api") for number in (0, 1)]
        deadline = time.monotonic() + 600  # the workers load (and first convert) the model
        healths = [None, None]
        while time.monotonic() < deadline:
            healths = [deployment.health(url) for url in apis]
            if all(health and health["workers"] == 2 for health in healths):
                break
            time.sleep(2)
        assert all(health and health["role"] == "api" and health["workers"] == 2 for health in healths), (
            healths, deployment.logs("docservice-worker-pod-0-worker"))

        long_text = "\n\n".join(SAMPLE_TEXT.replace("lighthouse", f"lighthouse {n}") for n in range(4))
        job_id = requests.post(f"{apis[0]}/generate-summary?async=true", json={"text": long_text, "length": "long"},
                               timeout=30).json()["job_id"]
        deadline = time.monotonic() + 120
        while not deployment.sql(f"SELECT owner FROM jobs WHERE id = '{job_id}'") and time.monotonic() < deadline:
            time.sleep(0.5)
        owner = deployment.sql(f"SELECT owner FROM jobs WHERE id = '{job_id}'")
        victim = owner.split(":")[0]  # the worker pod's host name: its pod's name
        assert victim in ("docservice-worker-pod-0", "docservice-worker-pod-1"), owner
        podman("pod", "kill", victim)  # SIGKILL: the pod is gone mid-job

        deadline = time.monotonic() + 600
        job = requests.get(f"{apis[1]}/jobs/{job_id}?wait=60", timeout=90).json()
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            job = requests.get(f"{apis[1]}/jobs/{job_id}?wait=60", timeout=90).json()
        assert job["status"] == "succeeded" and job["result"]["summary"], job
        finished = deployment.sql(f"SELECT attempts, owner FROM jobs WHERE id = '{job_id}'")
        attempts, last_owner = finished.split("|", 1)
        assert int(attempts) == 2 and not last_owner.startswith(victim), finished
    finally:
        deployment.remove()
