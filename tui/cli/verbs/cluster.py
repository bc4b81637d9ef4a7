"""`bai cluster create|show|list|resize|delete` (az batchai cluster ...)."""

from __future__ import annotations

import argparse
from typing import Any

from tui.cli.output import cluster_row
from tui.cli.verbs._common import (
    add_name,
    add_resource_group,
    add_workspace,
    cluster_ref,
    leaf,
    non_negative,
    noun,
    run_with_backend,
    show,
    warn,
)
from tui.core.errors import BaiError


def register(subparsers: Any) -> None:
    verbs = noun(subparsers, "cluster", "clusters: the nodes jobs run on")

    parser = leaf(verbs, "create", "create a cluster", _create)
    _add_ref(parser)
    parser.add_argument(
        "-s", "--vm-size", help="VM size, e.g. Standard_NC6 (a label locally; optional with --backend ssh)"
    )
    parser.add_argument(
        "-t",
        "--target",
        type=non_negative,
        help="number of nodes (ssh: hosts in the cluster now; default all)",
    )
    parser.add_argument(
        "--vm-priority", choices=("dedicated", "lowpriority"), default="dedicated", help="VM priority"
    )
    parser.add_argument("-u", "--user-name", help="admin user on the nodes (default: your user name)")
    parser.add_argument(
        "-k", "--ssh-key", help="SSH public key, or the path of a .pub file (ssh backend: the private key)"
    )
    parser.add_argument(
        "--generate-ssh-keys",
        action="store_true",
        help="create ~/.ssh/id_rsa(.pub) if missing and use it (Azure backend; the local one needs no keys)",
    )
    _add_ssh_options(parser)

    for verb, handler, text in (
        ("show", _show, "show a cluster and its node states"),
        ("delete", _delete, "delete a cluster"),
    ):
        parser = leaf(verbs, verb, text, handler, output=verb == "show")
        _add_ref(parser)
        if verb == "delete":
            parser.add_argument("-y", "--yes", action="store_true", help="accepted for az compatibility")

    parser = leaf(verbs, "list", "list the clusters of a workspace", _list)
    add_resource_group(parser)
    add_workspace(parser)

    parser = leaf(verbs, "resize", "change a cluster's number of nodes (0 stops them all)", _resize)
    _add_ref(parser)
    parser.add_argument("-t", "--target", type=non_negative, required=True, help="new number of nodes")


def _add_ssh_options(parser: argparse.ArgumentParser) -> None:
    """The ssh backend's description of its hosts (see the README's "Your own hosts over SSH")."""
    group = parser.add_argument_group("ssh backend (--backend ssh)")
    group.add_argument("--hosts", metavar="HOST[:SLOTS],...", help="the hosts, in order; SLOTS workers each")
    group.add_argument("--hostfile", metavar="FILE", help="horovodrun's hostfile: `HOST slots=N` per line")
    group.add_argument("--ssh-user", metavar="USER", help="the user on the hosts (default: yours)")
    group.add_argument("--ssh-port", type=non_negative, metavar="N", help="the hosts' SSH port (default 22)")
    group.add_argument("--network-interface", metavar="IF", help="horovodrun's --network-interface")
    group.add_argument(
        "--python", metavar="PATH", help="the job Python on the hosts (default: this one's path)"
    )


def _add_ref(parser: argparse.ArgumentParser) -> None:
    add_resource_group(parser)
    add_workspace(parser)
    add_name(parser, "-c", "--cluster", metavar="CLUSTER", help_text="cluster name")


def _create(args: argparse.Namespace) -> int:
    from tui.backends import backend_name
    from tui.core.operations import cluster_admin

    if backend_name(args.backend) == "ssh":
        return _create_ssh(args)
    if args.hosts or args.hostfile:
        raise BaiError("--hosts and --hostfile are for --backend ssh (or BAI_BACKEND=ssh)")
    for value, flag in ((args.vm_size, "-s/--vm-size"), (args.target, "-t/--target")):
        if value is None:
            raise BaiError(f"the following arguments are required: {flag}")
    # az's policy (--ssh-key, else ~/.ssh/id_rsa.pub, made with --generate-ssh-keys); the local backend runs
    # jobs as you on this machine and needs no admin user or key; Azure ML's nodes take one only when asked.
    user, key = cluster_admin(
        backend_name(args.backend), args.user_name, args.ssh_key, args.generate_ssh_keys
    )
    cluster = run_with_backend(
        args,
        lambda backend: backend.clusters.create(
            cluster_ref(args),
            vm_size=args.vm_size,
            target_node_count=args.target,
            vm_priority=args.vm_priority,
            admin_user_name=user,
            ssh_public_key=key,
        ),
        busy=True,
    )
    for message in getattr(cluster, "warnings", ()):
        warn(message)
    return show(args, cluster, cluster_row)


def _create_ssh(args: argparse.Namespace) -> int:
    cluster = run_with_backend(
        args,
        lambda backend: backend.clusters.create(  # type: ignore[call-arg]
            cluster_ref(args),
            vm_size=args.vm_size,
            target_node_count=args.target,
            vm_priority=args.vm_priority,
            admin_user_name=args.ssh_user or args.user_name,
            hosts=args.hosts,
            hostfile=args.hostfile,
            ssh_key=args.ssh_key,
            ssh_port=args.ssh_port,
            network_interface=args.network_interface,
            python=args.python,
        ),
        busy=True,
    )
    return show(args, cluster, cluster_row)


def _show(args: argparse.Namespace) -> int:
    return show(
        args, run_with_backend(args, lambda backend: backend.clusters.get(cluster_ref(args))), cluster_row
    )


def _list(args: argparse.Namespace) -> int:
    clusters = run_with_backend(
        args, lambda backend: backend.clusters.list(args.resource_group, args.workspace)
    )
    return show(args, clusters, cluster_row)


def _resize(args: argparse.Namespace) -> int:
    cluster = run_with_backend(args, lambda backend: backend.clusters.resize(cluster_ref(args), args.target))
    return show(args, cluster, cluster_row)


def _delete(args: argparse.Namespace) -> int:
    run_with_backend(args, lambda backend: backend.clusters.delete(cluster_ref(args)), busy=True)
    return 0
