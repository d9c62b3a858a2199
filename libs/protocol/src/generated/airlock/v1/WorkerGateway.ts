// Original file: proto/airlock/v1/worker_gateway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ControlFrame as _airlock_v1_ControlFrame, ControlFrame__Output as _airlock_v1_ControlFrame__Output } from '../../airlock/v1/ControlFrame';
import type { EnrollRequest as _airlock_v1_EnrollRequest, EnrollRequest__Output as _airlock_v1_EnrollRequest__Output } from '../../airlock/v1/EnrollRequest';
import type { EnrollResponse as _airlock_v1_EnrollResponse, EnrollResponse__Output as _airlock_v1_EnrollResponse__Output } from '../../airlock/v1/EnrollResponse';
import type { WorkerFrame as _airlock_v1_WorkerFrame, WorkerFrame__Output as _airlock_v1_WorkerFrame__Output } from '../../airlock/v1/WorkerFrame';

export interface WorkerGatewayClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_airlock_v1_WorkerFrame, _airlock_v1_ControlFrame__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_airlock_v1_WorkerFrame, _airlock_v1_ControlFrame__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_airlock_v1_WorkerFrame, _airlock_v1_ControlFrame__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_airlock_v1_WorkerFrame, _airlock_v1_ControlFrame__Output>;
  
  Enroll(argument: _airlock_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _airlock_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _airlock_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _airlock_v1_EnrollRequest, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _airlock_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _airlock_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _airlock_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _airlock_v1_EnrollRequest, callback: grpc.requestCallback<_airlock_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface WorkerGatewayHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_airlock_v1_WorkerFrame__Output, _airlock_v1_ControlFrame>;
  
  Enroll: grpc.handleUnaryCall<_airlock_v1_EnrollRequest__Output, _airlock_v1_EnrollResponse>;
  
}

export interface WorkerGatewayDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_airlock_v1_WorkerFrame, _airlock_v1_ControlFrame, _airlock_v1_WorkerFrame__Output, _airlock_v1_ControlFrame__Output>
  Enroll: MethodDefinition<_airlock_v1_EnrollRequest, _airlock_v1_EnrollResponse, _airlock_v1_EnrollRequest__Output, _airlock_v1_EnrollResponse__Output>
}
