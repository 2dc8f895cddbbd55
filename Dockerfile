# The Argosy image for Kubernetes: `argosy controller` (the workflow controller Deployment) and the
# executor commands workflow pods run in their init/wait/resource/GC containers
# (`argosy exec init|wait|resource|gc`). One image serves both roles.
#
#   docker build -t ghcr.io/argosy/argosy:latest .
#   argosy controller --executor-image ghcr.io/argosy/argosy:latest
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY argosy ./argosy
RUN pip install --no-cache-dir --no-compile --prefix=/install .

FROM python:3.11-slim
# git: git input artifacts; ca-certificates: TLS to object stores and the API server
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 8737 --create-home --shell /usr/sbin/nologin argosy
COPY --from=build /install /usr/local
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 8737
WORKDIR /home/argosy
ENTRYPOINT ["argosy"]
CMD ["controller"]
