# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY services services
COPY jobs jobs
COPY sandbox sandbox
COPY locales locales
RUN pip install --no-cache-dir . \
    && cd / && python -c "from services.i18n import compile_catalogues; compile_catalogues()"

FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 quickcart
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    LOG_FORMAT=json \
    DATA_DIR=/home/quickcart/data
USER quickcart
WORKDIR /home/quickcart
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["quickcart-ops", "run"]
