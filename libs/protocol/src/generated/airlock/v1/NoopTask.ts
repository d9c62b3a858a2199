// Original file: proto/airlock/v1/worker_gateway.proto


export interface NoopTask {
}

export interface NoopTask__Output {
}
