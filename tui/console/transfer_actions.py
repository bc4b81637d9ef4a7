"""The console's transfers: upload a file or folder to a share, download a share's file or a job's output.

As the resource actions, each asks in a dialog filled from the tree's selection and runs in a worker with a
progress line; a download is written through a temporary file so a failed one leaves nothing half written.
A mixin of the main screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tui.console.screen_host import ScreenHost
from tui.console.widgets.dialogs import FormField, required
from tui.console.widgets.task_bar import Task


class TransferActions(ScreenHost):
    """The upload and download actions of `MainScreen` (see `tui.console.actions` for their keys)."""

    def action_upload(self) -> None:
        item = self.need(self.selected(), ("share", "folder", "file"), "a share or folder to upload into")
        if item is None:
            return
        directory = item.path if item.kind != "file" else item.path.rpartition("/")[0]

        def exists(value: str) -> str | None:
            return None if Path(value).expanduser().exists() else f"{value} does not exist on this machine"

        def upload(values: dict[str, str]) -> None:
            source = Path(values["source"]).expanduser()
            target = values["directory"].strip("/")

            async def run(task: Task) -> None:
                from tui.core.operations import upload_file, upload_folder

                # As az: a folder is uploaded as upload-batch does (its folders made); one file goes into a
                # folder that must exist (ParentNotFound), the same rule as `bai storage file upload`.
                storage = self.backend.storage
                if source.is_dir():
                    entries = await upload_folder(
                        storage, item.account, item.share, target, source, progress=task.progress
                    )
                    self.notify(f"Uploaded {len(entries)} file(s) to {item.share}/{target}")
                else:
                    path = f"{target}/{source.name}".lstrip("/")
                    await upload_file(storage, item.account, item.share, path, source, progress=task.progress)
                    self.notify(f"Uploaded {source.name} to {item.share}/{target}")
                self.after_change()

            self.run_task(f"Uploading {source.name}", run)

        self.ask(
            f"Upload to share {item.share} (az storage file upload)",
            [
                FormField("source", "Local file or folder", check=exists, path=True),
                FormField("directory", "Folder on the share ('' = root)", directory),
            ],
            upload,
            "Upload",
        )

    def action_download(self) -> None:
        item = self.need(self.selected(), ("file", "job", "output"), "a file on a share, a job or its file")
        if item is None:
            return

        def download(values: dict[str, str]) -> None:
            destination = Path(values["destination"]).expanduser()

            async def run(task: Task) -> None:
                destination.parent.mkdir(parents=True, exist_ok=True)
                if item.kind == "file":
                    await self.backend.storage.download_file(
                        item.account, item.share, item.path, destination, progress=task.progress
                    )
                elif item.kind == "output":
                    await save_stream(
                        self.backend.jobs.stream_file(item.job_ref, item.path, item.output_dir, follow=False),
                        destination,
                        task,
                    )
                else:
                    written = 0
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    with destination.open("wb") as out:
                        async for chunk in self.backend.jobs.stream_file(
                            item.job_ref, values["name"], follow=False
                        ):
                            out.write(chunk)
                            written += len(chunk)
                            task.progress(written, None)
                self.notify(f"Saved {destination}")

            self.run_task(f"Downloading to {destination}", run)

        fields = []
        if item.kind == "job":
            fields.append(FormField("name", "Output file", "stdout.txt", check=required("file name")))
        default = Path.cwd() / (item.name if item.kind in ("file", "output") else f"{item.name}-stdout.txt")
        fields.append(
            FormField("destination", "Save as (local path)", str(default), check=required("path"), path=True)
        )
        self.ask("Download (az storage file download / job file)", fields, download, "Download")


async def save_stream(chunks: Any, destination: Path, task: Task) -> None:
    """Write a job file's bytes to `destination` through a temporary file, so a failed download leaves
    nothing half written under the name the user gave."""
    partial = destination.with_name(f".{destination.name}.part")
    written = 0
    try:
        with partial.open("wb") as out:
            async for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
                task.progress(written, None)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
