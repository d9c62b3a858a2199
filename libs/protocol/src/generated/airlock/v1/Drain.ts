// Original file: proto/airlock/v1/worker_gateway.proto


export interface Drain {
}

export interface Drain__Output {
}
