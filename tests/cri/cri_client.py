#!/usr/bin/python3
"""A small CRI client (tests/cri/api.proto: the Kubernetes CRI calls a pod
needs), for the tests to drive containerd's CRI plugin as the kubelet does.

  cri_client.py --socket SOCK --stubs DIR COMMAND ...

The gRPC stubs are generated from api.proto into DIR on first use.
Commands (ids are printed on stdout, one line; failures go to stderr, exit 1):
  run-pod NAME LOG_DIR HANDLER        RunPodSandbox; the sandbox id
  create POD NAME LOG_DIR CONTAINER IMAGE LOG_PATH -- CMD...
                                      CreateContainer in POD (made by run-pod
                                      NAME LOG_DIR); the container id
  start ID | stop ID TIMEOUT | rm ID  StartContainer, StopContainer, RemoveContainer
  status ID                           ContainerStatus as JSON: state, exit_code, reason, message
  exec ID TIMEOUT -- CMD...           ExecSync as JSON: stdout, stderr, exit_code
  stop-pod ID | rm-pod ID             StopPodSandbox, RemovePodSandbox
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))


def load_stubs(directory):
    if not os.path.exists(os.path.join(directory, "api_pb2_grpc.py")):
        from grpc_tools import protoc
        os.makedirs(directory, exist_ok=True)
        code = protoc.main(["protoc", "-I" + HERE, "--python_out=" + directory, "--grpc_python_out=" + directory,
                            os.path.join(HERE, "api.proto")])
        if code != 0:
            raise SystemExit("cri_client: protoc failed on api.proto")
    sys.path.insert(0, directory)
    import api_pb2  # noqa: E402
    import api_pb2_grpc  # noqa: E402
    return api_pb2, api_pb2_grpc


def sandbox_config(pb, name, log_dir):
    # The pod shares network and IPC; each container has its own pid
    # namespace (a Proxmox CT's init is pid 1 of its own).
    options = pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=name + "-uid", namespace="default", attempt=0),
        hostname=name, log_directory=log_dir,
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(namespace_options=options)))


def after_dashes(args):
    if "--" not in args:
        raise SystemExit("cri_client: the command follows --")
    return args[args.index("--") + 1:]


def main(argv):
    import grpc
    if len(argv) < 5 or argv[0] != "--socket" or argv[2] != "--stubs":
        raise SystemExit(__doc__)
    socket, stubs, command, args = argv[1], argv[3], argv[4], argv[5:]
    pb, pb_grpc = load_stubs(stubs)
    runtime = pb_grpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + socket))
    try:
        if command == "run-pod":
            name, log_dir, handler = args
            r = runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=sandbox_config(pb, name, log_dir),
                                                              runtime_handler=handler))
            print(r.pod_sandbox_id)
        elif command == "create":
            pod, name, log_dir, container, image, log_path = args[:6]
            options = pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)
            config = pb.ContainerConfig(
                metadata=pb.ContainerMetadata(name=container, attempt=0), image=pb.ImageSpec(image=image),
                command=after_dashes(args), log_path=log_path,
                envs=[pb.KeyValue(key="CONTAINER", value=container)],
                linux=pb.LinuxContainerConfig(
                    security_context=pb.LinuxContainerSecurityContext(namespace_options=options)))
            r = runtime.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod, config=config,
                                                                  sandbox_config=sandbox_config(pb, name, log_dir)))
            print(r.container_id)
        elif command == "start":
            runtime.StartContainer(pb.StartContainerRequest(container_id=args[0]))
        elif command == "stop":
            runtime.StopContainer(pb.StopContainerRequest(container_id=args[0], timeout=int(args[1])))
        elif command == "rm":
            runtime.RemoveContainer(pb.RemoveContainerRequest(container_id=args[0]))
        elif command == "status":
            s = runtime.ContainerStatus(pb.ContainerStatusRequest(container_id=args[0])).status
            print(json.dumps({"state": pb.ContainerState.Name(s.state), "exit_code": s.exit_code,
                              "reason": s.reason, "message": s.message}))
        elif command == "exec":
            r = runtime.ExecSync(pb.ExecSyncRequest(container_id=args[0], timeout=int(args[1]),
                                                    cmd=after_dashes(args)))
            print(json.dumps({"stdout": r.stdout.decode(errors="replace"), "stderr": r.stderr.decode(errors="replace"),
                              "exit_code": r.exit_code}))
        elif command == "stop-pod":
            runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=args[0]))
        elif command == "rm-pod":
            runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=args[0]))
        else:
            raise SystemExit("cri_client: unknown command " + command)
    except grpc.RpcError as e:
        sys.stderr.write("%s: %s: %s\n" % (command, e.code().name, e.details()))
        return 1
    return 0


if __name__ == "__main__":
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.exit(main(sys.argv[1:]))
