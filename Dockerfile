# Variance Lab in a container: one Streamlit server on 0.0.0.0:8501.
#   docker build -t variance-lab .
#   docker run --rm -p 8501:8501 -e STREAMLIT_SERVER_COOKIE_SECRET=<same for every replica> variance-lab
# Several replicas behind nginx, sharing results through Redis: deploy/compose.yaml
# (docs/replicas.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # At most two malloc arenas: Streamlit runs every rerun in a new thread and glibc would
    # otherwise keep freed simulation arrays in up to 8 arenas per core.
    MALLOC_ARENA_MAX=2

WORKDIR /app
COPY requirements.txt .
RUN python -m pip install -r requirements.txt

COPY app.py ./
COPY .streamlit ./.streamlit
COPY core ./core
COPY ui ./ui
COPY views ./views

RUN useradd --create-home --uid 10001 app
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"

# VARIANCE_LAB_WORKERS (default: the container's CPUs) bounds concurrent simulations.
CMD ["python", "-m", "streamlit", "run", "app.py", \
     "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true", \
     "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
