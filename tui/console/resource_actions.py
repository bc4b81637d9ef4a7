"""The console's resource actions: create, resize, terminate and delete, as az does them.

Each asks for what it needs in a dialog (filled from the tree's selection), runs the backend call in a worker
with a progress line (`run_task`), says what happened, and shows the tree's new state. They are a mixin of the
main screen, which provides the selection, the dialogs and the worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tui.console.screen_host import ScreenHost
from tui.console.states import active_jobs_on, scale_question
from tui.console.widgets.dialogs import (
    Choice,
    ChoiceDialog,
    FormField,
    required,
    suggest_name,
    whole_number,
)
from tui.console.widgets.task_bar import Task
from tui.console.widgets.tree_items import Item

DEFAULT_LOCATION = "eastus"


class ResourceActions(ScreenHost):
    """The resource actions of `MainScreen` (see `tui.console.actions` for their keys)."""

    def known(self, kind: str, **match: str) -> list[Item]:
        """The tree's items of `kind` (those loaded so far) whose fields equal `match`: the names a
        suggestion must not repeat, and the one group or account to prefill when there is only one."""
        found: list[Item] = []
        stack = list(self.tree.root.children)
        while stack:
            node = stack.pop()
            data = node.data
            if (
                data is not None
                and data.kind == kind
                and all(getattr(data, k) == v for k, v in match.items())
            ):
                found.append(data)
            stack.extend(node.children)
        return sorted(found, key=lambda found_item: found_item.name)

    def in_context(self) -> Item:
        """The selection as the context of a new resource; with nothing of a group selected, the only
        group, workspace or account there is (a first-time user has one of each)."""
        from dataclasses import replace

        item = self.selected()
        context = Item("none") if item is None or item.kind in ("root", "empty") else item

        def only(kind: str, **match: str) -> str:
            items = self.known(kind, **match)
            return items[0].name if len(items) == 1 else ""

        group = context.group or only("group")
        workspace = context.workspace or (only("workspace", group=group) if group else "")
        account = context.account or (only("account", group=group) if group else "")
        return replace(context, group=group, workspace=workspace, account=account)

    def create_with_form(
        self,
        title: str,
        fields: list[FormField],
        label: Callable[[dict[str, str]], str],
        create: Callable[[dict[str, str]], Awaitable[tuple[str, Item]]],
        taken: Callable[[], Awaitable[list[Any]]] | None = None,
    ) -> None:
        """Ask for a new resource's fields, create it in a worker, say so and open the tree down to it.

        `create` makes the resource and returns the notice and the tree item to select; `label` names
        the work for the progress line. `taken` lists the siblings (objects with a `name`): the `name`
        field's suggestion (the tutorial's name) gets a number when one of them has it already, so Enter
        on the suggestion never meets "already exists".
        """

        def submitted(values: dict[str, str]) -> None:
            async def run(task: Task) -> None:
                notice, item = await create(values)
                self.notify(notice)
                self.after_change(item)

            self.run_task(label(values), run)

        if taken is None:
            self.ask(title, fields, submitted, "Create")
            return

        async def suggest_then_ask() -> None:
            try:
                names = [sibling.name for sibling in await taken()]
            except Exception:
                names = []  # the parent is not there (yet): the create will say so
            for spec in fields:
                if spec.key == "name" and spec.value:
                    spec.value = suggest_name(spec.value, names)
            self.ask(title, fields, submitted, "Create")

        self.run_worker(suggest_then_ask(), group="create-dialog", exclusive=True, exit_on_error=False)

    def action_create_group(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.groups.create(values["name"], values["location"])
            return f"Resource group {values['name']} created", Item.of_group(values["name"])

        self.create_with_form(
            "Create resource group (az group create)",
            [
                FormField("name", "Name", "batchai.horovod", check=required("group name")),
                FormField("location", "Location", DEFAULT_LOCATION, check=required("location")),
            ],
            lambda values: f"Creating group {values['name']}",
            create,
            self.backend.groups.list,
        )

    def action_create_workspace(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.workspaces.create(values["group"], values["name"], values["location"] or None)
            return f"Workspace {values['name']} created", Item.of_workspace(values["group"], values["name"])

        item = self.in_context()
        name = "batchaidev"
        self.create_with_form(
            "Create workspace (az batchai workspace create)",
            [
                group_field(item),
                FormField("name", "Workspace name", name, check=required("workspace name")),
                FormField("location", "Location (empty: the group's)", ""),
            ],
            lambda values: f"Creating workspace {values['name']}",
            create,
            lambda: self.backend.workspaces.list(item.group),
        )

    def action_create_experiment(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            from tui.core.model import ExperimentRef

            ref = ExperimentRef(values["group"], values["workspace"], values["name"])
            await self.backend.experiments.create(ref)
            item = Item.of_experiment(ref.resource_group, ref.workspace, ref.name)
            return f"Experiment {values['name']} created", item

        item = self.in_context()
        name = "cifar"
        self.create_with_form(
            "Create experiment (az batchai experiment create)",
            [
                group_field(item),
                workspace_field(item),
                FormField("name", "Experiment name", name, check=required("experiment name")),
            ],
            lambda values: f"Creating experiment {values['name']}",
            create,
            lambda: self.backend.experiments.list(item.group, item.workspace),
        )

    def action_create_cluster(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            from tui.core.model import ClusterRef
            from tui.core.operations import cluster_admin

            ref = ClusterRef(values["group"], values["workspace"], values["name"])
            if ssh:  # the ssh backend: your hosts (see the README's "Your own hosts over SSH")
                cluster = await self.backend.clusters.create(
                    ref,
                    values["vm_size"] or None,
                    int(values["target"]) if values["target"].strip() else None,
                    values["priority"] or "dedicated",
                    admin_user_name=values["ssh_user"].strip() or None,
                    hosts=values["hosts"],
                    ssh_key=values["ssh_key"].strip() or None,
                    network_interface=values["interface"].strip() or None,
                )
            else:
                # az's SSH-key policy, the same as `bai cluster create`: the key given, else
                # ~/.ssh/id_rsa.pub (the local backend needs none, Azure ML one only when given).
                user, key = cluster_admin(
                    getattr(self.backend, "name", "local"), None, values.get("ssh_key", "").strip() or None
                )
                cluster = await self.backend.clusters.create(
                    ref,
                    values["vm_size"],
                    int(values["target"]),
                    values["priority"] or "dedicated",
                    admin_user_name=user,
                    ssh_public_key=key,
                )
            for warning in getattr(cluster, "warnings", ()):  # azureml: a retired VM size, sent as given
                self.notify(warning, title=f"Cluster {ref.name}: warning", severity="warning", timeout=12)
            item = Item.of_cluster(ref.resource_group, ref.workspace, ref.name)
            return f"Cluster {values['name']} created; nodes are being allocated", item

        def priority(value: str) -> str | None:
            return None if value.strip() in ("dedicated", "lowpriority", "") else "dedicated or lowpriority"

        def target_hosts(value: str) -> str | None:
            return None if not value.strip() else whole_number("target", 0)(value)

        ssh = getattr(self.backend, "name", "") == "ssh"
        item = self.in_context()
        name = "nc6cluster"
        fields = [
            group_field(item),
            workspace_field(item),
            FormField("name", "Cluster name", name, check=required("cluster name")),
            FormField(
                "vm_size",
                "VM size",
                "" if ssh else "Standard_NC6",
                check=None if ssh else required("VM size"),
            ),
            FormField("priority", "VM priority", "dedicated", check=priority),
        ]
        if ssh:
            fields += [
                FormField("hosts", "Hosts (HOST[:SLOTS],...)", "", "gpu1:4,gpu2:4", check=required("hosts")),
                FormField("target", "Hosts in the cluster now (empty: all)", "", check=target_hosts),
                FormField("ssh_user", "SSH user (empty: yours)", ""),
                FormField("ssh_key", "SSH private key (empty: ssh's default)", "", path=True),
                FormField("interface", "Network interface (horovodrun's --network-interface)", ""),
            ]
        else:
            fields.append(FormField("target", "Target nodes", "2", check=whole_number("target", 0)))
            if getattr(self.backend, "name", "local") != "local":  # az's --ssh-key
                fields.append(FormField("ssh_key", "SSH public key (empty: ~/.ssh/id_rsa.pub)", ""))
        self.create_with_form(
            "Create cluster (az batchai cluster create)",
            fields,
            lambda values: f"Creating cluster {values['name']}",
            create,
            lambda: self.backend.clusters.list(item.group, item.workspace),
        )

    def action_create_storage_account(self) -> None:
        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.storage.create_account(values["group"], values["name"], values["location"])
            item = Item.of_account(values["group"], values["name"])
            return f"Storage account {values['name']} created", item

        item = self.in_context()
        self.create_with_form(
            "Create storage account (az storage account create)",
            [
                group_field(item),
                FormField(
                    "name",
                    "Account name (3-24 lowercase letters, digits)",
                    "mystorage",
                    check=required("account name"),
                ),
                FormField("location", "Location", DEFAULT_LOCATION, check=required("location")),
            ],
            lambda values: f"Creating storage account {values['name']}",
            create,
            self.backend.storage.list_accounts,
        )

    def action_create_share(self) -> None:
        item = self.in_context()

        async def create(values: dict[str, str]) -> tuple[str, Item]:
            await self.backend.storage.create_share(values["account"], values["name"])
            return f"Share {values['name']} created", Item.of_share(
                item.group, values["account"], values["name"]
            )

        # The cursor starts on the share's name (the field this dialog is named after), not on the account.
        self.create_with_form(
            "Create file share (az storage share create)",
            [
                FormField("account", "Storage account", item.account, check=required("account")),
                FormField(
                    "name",
                    "Share name",
                    "myshare",
                    check=required("share name"),
                ),
            ],
            lambda values: f"Creating share {values['name']}",
            create,
            lambda: self.backend.storage.list_shares(item.account),
        )

    def action_create_folder(self) -> None:
        item = self.need(self.selected(), ("share", "folder"), "a share or folder")
        if item is None:
            return

        def path_for(values: dict[str, str]) -> str:
            return f"{item.path}/{values['name']}".strip("/")

        async def create(values: dict[str, str]) -> tuple[str, Item]:
            path = path_for(values)
            await self.backend.storage.create_directory(item.account, item.share, path)
            folder = Item.of_path("folder", item.group, item.account, item.share, path)
            return f"Folder {path} created on {item.share}", folder

        self.create_with_form(
            f"Create folder in {item.share}/{item.path} (az storage directory create)",
            [
                FormField(
                    "name",
                    "Folder name",
                    "cifar",
                    check=required("folder name"),
                )
            ],
            lambda values: f"Creating folder {path_for(values)}",
            create,
            lambda: self.backend.storage.list_files(item.account, item.share, item.path),
        )

    def action_resize(self) -> None:
        item = self.need(self.selected(), ("cluster",), "a cluster")
        if item is None:
            return
        current = str(getattr(item.obj, "target_node_count", ""))
        self.ask(
            f"Resize {item.name} (az batchai cluster resize)",
            [
                FormField("target", "Target node count", current, check=whole_number("target", 0)),
            ],
            lambda values: self._resize(item, int(values["target"])),
            "Resize",
        )

    def action_scale_to_zero(self) -> None:
        """Ask first, saying what really happens to the cluster's unfinished jobs: the service waits for
        them (their nodes sit in Leaving), so the user may terminate them first."""
        item = self.need(self.selected(), ("cluster",), "a cluster")
        if item is None:
            return

        async def run(task: Task) -> None:
            jobs = await active_jobs_on(self.backend, item)
            question = scale_question(item.name, jobs)
            if not jobs:
                self.confirm(question, lambda: self._resize(item, 0), "Scale to 0")
                return

            def answered(answer: str | None) -> None:
                if answer == "scale":
                    self._resize(item, 0)
                elif answer == "terminate":
                    self._terminate_then_scale(item, jobs)

            choices = [
                Choice("t", "Terminate, then scale", "terminate", "error"),
                Choice("y", "Scale, let them finish", "scale", "warning"),
            ]
            self.app.push_screen(ChoiceDialog(question, choices), answered)

        self.run_task(f"Reading the jobs on {item.name}", run)

    def _terminate_then_scale(self, item: Item, jobs: list[Any]) -> None:
        async def run(task: Task) -> None:
            for job in jobs:
                await self.backend.jobs.terminate(job.ref)
            await self.backend.clusters.resize(item.cluster_ref, 0)
            self.notify(f"Terminated {len(jobs)} job(s); cluster {item.name} resizing to 0 node(s)")
            self.after_change()

        self.run_task(f"Terminating the jobs on {item.name}", run)

    def _resize(self, item: Item, target: int) -> None:
        async def run(task: Task) -> None:
            await self.backend.clusters.resize(item.cluster_ref, target)
            self.notify(f"Cluster {item.name} resizing to {target} node(s)")
            self.after_change()

        self.run_task(f"Resizing {item.name} to {target}", run)

    def action_terminate(self) -> None:
        item = self.need(self.selected(), ("job",), "a job")
        if item is None:
            return

        def terminate() -> None:
            async def run(task: Task) -> None:
                job = await self.backend.jobs.terminate(item.job_ref)
                self.notify(f"Job {item.name}: {job.execution_state.value}")
                self.after_change()

            self.run_task(f"Terminating {item.name}", run)

        self.confirm(f"Terminate job {item.name}? Its workers are stopped now.", terminate, "Terminate")

    def action_delete(self) -> None:
        item = self.selected()
        if item is None:
            self.notify("Select what to delete in the tree first.", severity="warning")
            return
        backend = self.backend
        deleters: dict[str, tuple[str, Callable[[], Awaitable[Any]]]] = {
            "group": (
                f"resource group {item.name} and everything in it",
                lambda: backend.groups.delete(item.group),
            ),
            "workspace": (
                f"workspace {item.name} with its experiments, jobs and clusters",
                lambda: backend.workspaces.delete(item.group, item.workspace),
            ),
            "experiment": (
                f"experiment {item.name} and its jobs",
                lambda: backend.experiments.delete(item.experiment_ref),
            ),
            "cluster": (f"cluster {item.name}", lambda: backend.clusters.delete(item.cluster_ref)),
            "job": (f"job {item.name} and its output", lambda: backend.jobs.delete(item.job_ref)),
            "account": (
                f"storage account {item.name} and all its shares",
                lambda: backend.storage.delete_account(item.account),
            ),
            "share": (
                f"share {item.name} and all its files",
                lambda: backend.storage.delete_share(item.account, item.share),
            ),
            "file": (
                f"file {item.path}",
                lambda: backend.storage.delete_file(item.account, item.share, item.path),
            ),
            "folder": (
                f"folder {item.path}",
                lambda: backend.storage.delete_file(item.account, item.share, item.path),
            ),
        }
        if item.kind not in deleters:
            self.notify("This entry cannot be deleted.", severity="warning")
            return
        what, delete = deleters[item.kind]

        def confirmed() -> None:
            async def run(task: Task) -> None:
                await delete()
                self.notify(f"Deleted {what}")
                self.after_change()

            self.run_task(f"Deleting {item.kind} {item.name}", run)

        self.confirm(f"Delete {what}? This cannot be undone.", confirmed, "Delete")


def group_field(item: Item | None) -> FormField:
    """The resource group a new resource goes in: the selection's (see `in_context`), else typed."""
    return FormField("group", "Resource group", item.group if item else "", check=required("resource group"))


def workspace_field(item: Item | None) -> FormField:
    return FormField("workspace", "Workspace", item.workspace if item else "", check=required("workspace"))
