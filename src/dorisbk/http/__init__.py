"""The frontend's HTTP side: status pages, REST API and /metrics on Doris's http_port."""
