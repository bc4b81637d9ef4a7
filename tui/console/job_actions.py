"""The console's job-file actions: open and save a job.json in the job form, and submit it.

A submit goes where the form's target fields say. They follow the tree's selection until the user edits
them (see `JobForm.follow_target`); when the target then differs from what the tree shows, the submit asks
first, naming the full target, so a job never lands silently in another group than the one in view. A mixin
of the main screen, which provides the form, the dialogs and the worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work

from tui.console.screen_host import ScreenHost
from tui.console.widgets.dialogs import FormField, required
from tui.console.widgets.job_form import JobForm
from tui.console.widgets.job_form_fields import JobTarget
from tui.console.widgets.keys import key_of
from tui.console.widgets.task_bar import Task
from tui.console.widgets.tree_items import Item, path_of


class JobActions(ScreenHost):
    """The job-file actions of `MainScreen` (see `tui.console.actions` for their keys)."""

    def action_open_job_file(self) -> None:
        def open_dialog(form: JobForm) -> None:
            self.ask(
                "Open job.json",
                [
                    FormField(
                        "path",
                        "Path",
                        str(form.path or Path.cwd() / "job.json"),
                        check=job_file_problem,
                        path=True,
                    )
                ],
                lambda values: self.load_job_file(Path(values["path"]).expanduser()),
                "Open",
            )

        self.with_form(open_dialog)

    def load_job_file(self, path: Path) -> None:
        def load(form: JobForm) -> None:
            try:
                form.load_file(path)
            except (OSError, ValueError) as error:
                self.notify(str(error), title="Cannot open job.json", severity="error", timeout=8)
                return
            self.show_tab("job")
            self.notify(f"Loaded {path}", timeout=2)
            self._prefill_from_state(form)

        self.with_form(load)

    @work(group="form-prefill", exit_on_error=False)
    async def _prefill_from_state(self, form: JobForm) -> None:
        """Fill the form's empty target fields with the only group, workspace, experiment, cluster and
        storage account there are (a first-time user has one of each): `bai --job job.json` then submits
        with s, with nothing to type."""
        try:
            targets = await only_targets(self.backend)
        except Exception:
            return  # the state could not be read: the fields stay for the user (the tree says why)
        if targets and form.is_ready:
            form.prefill_target(**targets)

    def action_save_job_file(self) -> None:
        def save(form: JobForm) -> None:
            if form.path is None:
                self.ask(
                    "Save job.json as",
                    [
                        FormField(
                            "path", "Path", str(Path.cwd() / "job.json"), check=required("path"), path=True
                        )
                    ],
                    lambda values: self._save_job(form, Path(values["path"]).expanduser()),
                    "Save",
                )
            else:
                self._save_job(form, None)

        self.with_form(save)

    def _save_job(self, form: JobForm, path: Path | None) -> None:
        try:
            written = form.save(path)
        except (OSError, ValueError) as error:
            self.notify(str(error), title="Not saved", severity="error", timeout=8)
            return
        self.notify(f"Saved {written}", timeout=3)

    def action_submit(self) -> None:
        self.show_tab("job")

        def submit(form: JobForm) -> None:
            if not form.request_submit():
                self.notify(
                    "The job form has problems, marked next to each field: fix them and press "
                    f"{key_of(self.app, 'bai.submit', 's')} again.",
                    title="Not submitted",
                    severity="error",
                    timeout=6,
                )

        self.with_form(submit)

    def on_job_form_submit(self, event: JobForm.Submit) -> None:
        document, target = event.document, event.target

        async def run(task: Task) -> None:
            from tui.core.model import JobRef
            from tui.core.operations import prepare_job, submit_job

            # The same use case as `bai job create`: the storage account is the form's, else
            # AZURE_BATCHAI_STORAGE_ACCOUNT; the warnings are the same list in the same order.
            prepared = prepare_job(document, target.storage_account)
            ref = JobRef(target.resource_group, target.workspace, target.experiment, target.name)
            submitted = await submit_job(self.backend.jobs, ref, target.cluster, prepared)
            job = submitted.job
            self.submit_warnings[ref] = list(submitted.warnings)
            self.notify(f"Job {job.name} submitted ({job.execution_state.value})", title="Submitted")
            if submitted.warnings:  # in full in the job's details; one short line here, not a screenful
                details = key_of(self.app, "bai.tab_nodes", "1")
                self.notify(
                    f"{len(submitted.warnings)} warning(s): see the job's details (press {details})",
                    title=f"Job {job.name}",
                    severity="warning",
                    timeout=8,
                )
            chain = path_of(Item.of_job(ref))
            node = await self.tree.reveal(chain)
            if node is not None and node.data is not None:
                self.open_log(node.data)

        label = f"Submitting job {target.name}"
        shown = self.selected()
        if shown is not None and target_differs(target, shown):
            where = f"{target.resource_group}/{target.workspace}/{target.experiment}"
            self.confirm(
                f"Submit job {target.name} to {where} on cluster {target.cluster}? "
                f"The tree shows {tree_place(shown)}.",
                lambda: self.run_task(label, run),
                "Submit",
            )
            return
        self.run_task(label, run)


def target_differs(target: JobTarget, shown: Item) -> bool:
    """True when the tree's selection names a group, workspace, experiment or cluster the target does not."""
    pairs = (
        (shown.group, target.resource_group),
        (shown.workspace, target.workspace),
        (shown.experiment, target.experiment),
        (shown.name if shown.kind == "cluster" else "", target.cluster),
    )
    return any(seen and seen != wanted for seen, wanted in pairs)


def tree_place(item: Item) -> str:
    """Where the selection is, as the target names it: group/workspace[/experiment][ cluster C]."""
    place = "/".join(part for part in (item.group, item.workspace, item.experiment) if part)
    if item.kind == "cluster":
        place += f" cluster {item.name}"
    return place or item.name


def job_file_problem(value: str) -> str | None:
    """What is wrong with a job.json path typed in the Open dialog (kept open to fix it), None if fine."""
    if not value.strip():
        return "enter the path of a job.json"
    path = Path(value.strip()).expanduser()
    if path.is_dir():
        return f"{value} is a folder: give the path of a job.json in it"
    if not path.is_file():
        return f"{value} does not exist: give the path of a job.json"
    return None


async def only_targets(backend: Any) -> dict[str, str]:
    """The job form's target fields that the state decides: each level that has exactly one resource."""
    targets: dict[str, str] = {}
    groups = await backend.groups.list()
    if len(groups) != 1:
        return targets
    group = targets["resource_group"] = groups[0].name
    accounts = await backend.storage.list_accounts(group)
    if len(accounts) == 1:
        targets["storage_account"] = accounts[0].name
    workspaces = await backend.workspaces.list(group)
    if len(workspaces) != 1:
        return targets
    workspace = targets["workspace"] = workspaces[0].name
    experiments = await backend.experiments.list(group, workspace)
    if len(experiments) == 1:
        targets["experiment"] = experiments[0].name
    clusters = await backend.clusters.list(group, workspace)
    if len(clusters) == 1:
        targets["cluster"] = clusters[0].name
    return targets
