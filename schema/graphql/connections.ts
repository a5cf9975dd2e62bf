/** Relay-style connections: `edges { cursor node }`, `pageInfo { hasNextPage endCursor }`. */
import 'reflect-metadata';
import { Field, ObjectType } from 'type-graphql';
import { Listing, Task } from './types.js';

@ObjectType('PageInfo')
export class PageInfo {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Cursor of the last edge; pass it as `after`.' })
  endCursor!: string | null;
}

@ObjectType('TaskEdge')
export class TaskEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Task) node!: Task;
}

@ObjectType('TaskConnection')
export class TaskConnection {
  @Field(() => [TaskEdge]) edges!: TaskEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@ObjectType('ListingEdge')
export class ListingEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Listing) node!: Listing;
}

@ObjectType('ListingConnection')
export class ListingConnection {
  @Field(() => [ListingEdge]) edges!: ListingEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}
