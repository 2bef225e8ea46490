"""Container builds: the engine client, build images, tar streams in and out, containers.

Everything talks to the engine through the docker SDK (`DOCKER_HOST` and friends, so Podman's
docker-compatible socket and remote engines work too); files cross as tar streams, never bind
mounts. Engine problems become `ContainerError` with what to do.
"""
