/** The custom scalars of the contract: DateTime and JSON from graphql-scalars, Upload for multipart. */
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import { GraphQLUpload } from 'graphql-upload-minimal';

export const DateTimeScalar = DateTimeResolver; // named `DateTime`
export const JSONScalar = JSONResolver; // named `JSON`
export const UploadScalar = GraphQLUpload; // named `Upload`; its value is a Promise<FileUpload>
