/** The contract's object types. Resolvers return the port DTOs; these classes only describe them. */
import 'reflect-metadata';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Role, TaskStatus } from './enums.js';
import { ProcessLocal } from './process-local.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

@ObjectType('NodeInfo')
export class NodeInfo {
  @Field(() => ID) id!: string;
  @Field(() => String) url!: string;
  @Field(() => Role) role!: Role;
  @Field(() => Int) term!: number;
  @Field(() => DateTimeScalar, { nullable: true }) lastSeenAt!: Date | null;
}

/** As the answering process sees it: the gateway answers it itself. */
@ProcessLocal()
@ObjectType('Cluster')
export class Cluster {
  @Field(() => Int) term!: number;
  @Field(() => NodeInfo, { nullable: true }) leader!: NodeInfo | null;
  @Field(() => [NodeInfo]) nodes!: NodeInfo[];
  @Field(() => NodeInfo, { nullable: true, description: 'The answering node (null on the gateway).' })
  self!: NodeInfo | null;
}

@ObjectType('Task')
export class Task {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => TaskStatus) status!: TaskStatus;
  @Field(() => ID) createdBy!: string;
  @Field(() => Int) version!: number;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@ObjectType('Listing')
export class Listing {
  @Field(() => ID) id!: string;
  @Field(() => String) title!: string;
  @Field(() => String) url!: string;
  @Field(() => Float) price!: number;
  @Field(() => String) currency!: string;
  @Field(() => Float) priceEur!: number;
  @Field(() => DateTimeScalar) scrapedAt!: Date;
  @Field(() => Int) version!: number;
}

@ObjectType('StoredFile')
export class StoredFile {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Int) size!: number;
  @Field(() => String) sha256!: string;
  @Field(() => Int) importedListings!: number;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType('Event')
export class Event {
  @Field(() => Int) position!: number;
  @Field(() => String) stream!: string;
  @Field(() => Int) version!: number;
  @Field(() => String) type!: string;
  @Field(() => JSONScalar) data!: unknown;
  @Field(() => Int) term!: number;
  @Field(() => ID) nodeId!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
}

@ObjectType('LeaderChange')
export class LeaderChange {
  @Field(() => Int) term!: number;
  @Field(() => NodeInfo) leader!: NodeInfo;
  @Field(() => DateTimeScalar) at!: Date;
}

@ObjectType('ClusterEvent', { description: 'One election transition of one node.' })
export class ClusterEvent {
  @Field(() => ID) nodeId!: string;
  @Field(() => Int) term!: number;
  @Field(() => Role) from!: Role;
  @Field(() => Role) to!: Role;
  @Field(() => String) reason!: string;
  @Field(() => DateTimeScalar) at!: Date;
}
